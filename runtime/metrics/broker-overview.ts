import type { TrafficCounters } from '../../actors/connection/broker-services.js'
import type { Broker } from '../broker.js'

/** The broker at one moment, in numbers: what the dashboard, $SYS and /metrics all report. */
export interface BrokerOverview {
  /** Epoch ms. */
  readonly at: number
  readonly startedAt: number
  readonly connections: number
  readonly sessions: number
  /** Sessions whose client is away, kept for their expiry. */
  readonly sessionsOffline: number
  readonly subscriptions: number
  readonly retained: number
  /** QoS 1/2 messages sent and not yet acknowledged, over every session. */
  readonly inflight: number
  /** Messages waiting in session queues, over every session. */
  readonly queued: number
  /** Totals since start (a copy). */
  readonly counters: TrafficCounters
}

export function overviewOf (broker: Broker): BrokerOverview {
  let sessionsOffline = 0
  let inflight = 0
  let queued = 0
  for (const session of broker.sessions.values()) {
    if (!session.online) sessionsOffline++
    inflight += session.inflight.size
    queued += session.queue.length
  }
  return {
    at: Date.now(),
    startedAt: broker.startedAt,
    connections: broker.connections.size,
    sessions: broker.sessions.size,
    sessionsOffline,
    subscriptions: broker.router.subscriptionCount,
    retained: broker.router.retainedCount,
    inflight,
    queued,
    counters: copyCounters(broker.counters)
  }
}

function copyCounters (counters: TrafficCounters): TrafficCounters {
  return {
    ...counters,
    packetsReceived: { ...counters.packetsReceived },
    dropped: { ...counters.dropped },
    limited: { ...counters.limited }
  }
}

/** Messages dropped for any reason, since start. */
export function droppedTotal (counters: TrafficCounters): number {
  let total = 0
  for (const count of Object.values(counters.dropped)) total += count
  return total
}
