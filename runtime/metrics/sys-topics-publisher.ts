import { createMessage } from '../../actors/router/message.js'
import type { Router } from '../../actors/router/router.js'
import type { BrokerMetrics } from './broker-metrics.js'
import { droppedTotal } from './broker-overview.js'
import type { TrafficSample } from './traffic-history.js'

/** Windows of Mosquitto's `$SYS/broker/load/...` topics, in seconds. */
const LOAD_WINDOWS = [[60, '1min'], [300, '5min'], [900, '15min']] as const

/**
 * Publishes the broker's numbers under `$SYS/broker/...` every `intervalSeconds`, retained, with
 * Mosquitto's topic names, so dashboards and scripts made for Mosquitto read Troupe unchanged.
 * The `load/.../1min` topics are per-minute averages over the last 1, 5 and 15 minutes of the
 * one-second traffic history. Clients cannot publish under `$SYS` (sys-topics.ts).
 */
export class SysTopicsPublisher {
  private timer: NodeJS.Timeout | undefined

  constructor (
    private readonly router: Router,
    private readonly metrics: BrokerMetrics,
    private readonly version: string,
    private readonly intervalSeconds: number
  ) {}

  start (): void {
    if (this.intervalSeconds === 0 || this.timer !== undefined) return
    this.publish()
    this.timer = setInterval(() => this.publish(), this.intervalSeconds * 1000)
    this.timer.unref()
  }

  stop (): void {
    clearInterval(this.timer)
    this.timer = undefined
  }

  /** Every topic and its value now. */
  values (): Map<string, string> {
    const overview = this.metrics.overview()
    const counters = overview.counters
    const values = new Map<string, string>([
      ['$SYS/broker/version', `troupe version ${this.version}`],
      ['$SYS/broker/uptime', `${Math.floor((overview.at - overview.startedAt) / 1000)} seconds`],
      ['$SYS/broker/clients/connected', String(overview.connections)],
      ['$SYS/broker/clients/active', String(overview.connections)],
      ['$SYS/broker/clients/disconnected', String(overview.sessionsOffline)],
      ['$SYS/broker/clients/inactive', String(overview.sessionsOffline)],
      ['$SYS/broker/clients/total', String(overview.sessions)],
      ['$SYS/broker/messages/received', String(counters.messagesReceived)],
      ['$SYS/broker/messages/sent', String(counters.messagesSent)],
      ['$SYS/broker/messages/stored', String(overview.queued + overview.inflight + overview.retained)],
      ['$SYS/broker/messages/inflight', String(overview.inflight)],
      ['$SYS/broker/store/messages/count', String(overview.queued + overview.inflight + overview.retained)],
      ['$SYS/broker/publish/messages/received', String(counters.messagesReceived)],
      ['$SYS/broker/publish/messages/sent', String(counters.messagesSent)],
      ['$SYS/broker/publish/messages/dropped', String(droppedTotal(counters))],
      ['$SYS/broker/bytes/received', String(counters.bytesReceived)],
      ['$SYS/broker/bytes/sent', String(counters.bytesSent)],
      ['$SYS/broker/subscriptions/count', String(overview.subscriptions)],
      ['$SYS/broker/retained messages/count', String(overview.retained)]
    ])
    const samples = this.metrics.history.samples(900)
    for (const [seconds, name] of LOAD_WINDOWS) {
      const window = samples.slice(-seconds)
      const perMinute = (key: keyof Omit<TrafficSample, 'at' | 'connections'>): string => (average(window, key) * 60).toFixed(2)
      values.set(`$SYS/broker/load/messages/received/${name}`, perMinute('messagesIn'))
      values.set(`$SYS/broker/load/messages/sent/${name}`, perMinute('messagesOut'))
      values.set(`$SYS/broker/load/publish/received/${name}`, perMinute('messagesIn'))
      values.set(`$SYS/broker/load/publish/sent/${name}`, perMinute('messagesOut'))
      values.set(`$SYS/broker/load/publish/dropped/${name}`, perMinute('dropped'))
      values.set(`$SYS/broker/load/bytes/received/${name}`, perMinute('bytesIn'))
      values.set(`$SYS/broker/load/bytes/sent/${name}`, perMinute('bytesOut'))
    }
    return values
  }

  private publish (): void {
    for (const [topic, value] of this.values()) {
      this.router.publish(createMessage({ topic, payload: Buffer.from(value), qos: 0, retain: true }))
    }
  }
}

function average (samples: readonly TrafficSample[], key: keyof Omit<TrafficSample, 'at' | 'connections'>): number {
  if (samples.length === 0) return 0
  let sum = 0
  for (const sample of samples) sum += sample[key]
  return sum / samples.length
}
