import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client'
import type { TrafficCounters } from '../../actors/connection/broker-services.js'
import type { BrokerMetrics } from './broker-metrics.js'
import type { BrokerOverview } from './broker-overview.js'

/**
 * The broker's numbers in Prometheus' text format, for `/metrics`: gauges of what it holds,
 * counters of what it did since start (read from its plain counters at each scrape, so the
 * data path pays nothing), and prom-client's process metrics (CPU, memory, event loop lag,
 * garbage collection).
 */
export class PrometheusMetrics {
  private readonly registry = new Registry()
  /** One overview per scrape, shared by every metric's collect. */
  private current: BrokerOverview | undefined

  constructor (private readonly metrics: BrokerMetrics) {
    const registers = [this.registry]
    collectDefaultMetrics({ register: this.registry })
    this.registry.registerMetric(metrics.storeBatches)
    const gauge = (name: string, help: string, read: (overview: BrokerOverview) => number): void => {
      const self = this
      new Gauge({ name, help, registers, collect () { this.set(read(self.overview())) } })
    }
    gauge('troupe_connections', 'Client connections open now', o => o.connections)
    gauge('troupe_subscriptions', 'Subscriptions held by all sessions', o => o.subscriptions)
    gauge('troupe_retained_messages', 'Retained messages held', o => o.retained)
    gauge('troupe_inflight_messages', 'QoS 1/2 messages sent and not yet acknowledged, over all sessions', o => o.inflight)
    gauge('troupe_queued_messages', 'Messages waiting in session queues, over all sessions', o => o.queued)
    gauge('troupe_uptime_seconds', 'Seconds since the broker started', o => (o.at - o.startedAt) / 1000)
    const self = this
    new Gauge({
      name: 'troupe_sessions',
      help: 'Sessions held, by whether their client is connected',
      labelNames: ['state'],
      registers,
      collect () {
        const o = self.overview()
        this.set({ state: 'online' }, o.sessions - o.sessionsOffline)
        this.set({ state: 'offline' }, o.sessionsOffline)
      }
    })
    const counter = (name: string, help: string, read: (counters: TrafficCounters) => number): void => {
      new Counter({ name, help, registers, collect () { this.reset(); this.inc(read(self.overview().counters)) } })
    }
    counter('troupe_messages_received_total', 'PUBLISH messages received from clients (and wills published)', c => c.messagesReceived)
    counter('troupe_messages_sent_total', 'PUBLISH messages sent to clients', c => c.messagesSent)
    counter('troupe_bytes_received_total', 'Bytes received from clients', c => c.bytesReceived)
    counter('troupe_bytes_sent_total', 'Bytes sent to clients', c => c.bytesSent)
    counter('troupe_connections_accepted_total', 'Connections whose CONNECT was accepted', c => c.connectionsAccepted)
    counter('troupe_connections_refused_total', 'Connections refused at CONNECT (bad protocol, client id, login, limits)', c => c.connectionsRefused)
    counter('troupe_auth_failures_total', 'Logins refused: wrong credentials, denied by a provider, or from a banned address', c => c.authFailures)
    const labelled = (name: string, help: string, label: string, read: (counters: TrafficCounters) => Readonly<Record<string, number>>): void => {
      new Counter({
        name,
        help,
        labelNames: [label],
        registers,
        collect () {
          this.reset()
          for (const [key, value] of Object.entries(read(self.overview().counters))) this.inc({ [label]: key }, value)
        }
      })
    }
    labelled('troupe_packets_received_total', 'Control packets received, by type (PUBLISH decoded on the fast path is counted in troupe_messages_received_total)', 'type', c => c.packetsReceived)
    labelled('troupe_messages_dropped_total', 'Messages dropped, by reason', 'reason', c => c.dropped)
    labelled('troupe_limited_total', 'Times a limit refused, slowed down or shed something, by limit', 'limit', c => c.limited)
  }

  /** The exposition, as a scrape gets it. */
  async text (): Promise<string> {
    this.current = undefined
    try {
      return await this.registry.metrics()
    } finally {
      this.current = undefined
    }
  }

  get contentType (): string {
    return this.registry.contentType
  }

  private overview (): BrokerOverview {
    this.current ??= this.metrics.overview()
    return this.current
  }
}
