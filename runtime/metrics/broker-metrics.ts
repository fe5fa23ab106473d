import { Histogram } from 'prom-client'
import type { Broker } from '../broker.js'
import { overviewOf, type BrokerOverview } from './broker-overview.js'
import { ProcessMonitor, type ProcessStats } from './process-stats.js'
import { TrafficHistory, type TrafficSample } from './traffic-history.js'

/**
 * The broker's numbers over time, taken once a second: the traffic of the last hour and the
 * process's vital signs. The monitor, $SYS and /metrics all read these rather than each
 * measuring for itself, so their intervals agree and looking costs the broker nothing more.
 */
export class BrokerMetrics {
  readonly history: TrafficHistory
  /** How long the store takes to apply a batch of writes (what a durable store's acknowledgements wait for). */
  readonly storeBatches = new Histogram({
    name: 'troupe_store_batch_seconds',
    help: 'Seconds from handing a batch of writes (one event-loop turn\'s) to the store to its answer; QoS 1/2 acknowledgements to durable sessions wait for it',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
    registers: []
  })
  private readonly processMonitor = new ProcessMonitor()
  /** The last second's, once the first tick has measured one. */
  private latestProcess: ProcessStats | undefined
  private timer: NodeJS.Timeout | undefined

  constructor (private readonly broker: Broker) {
    this.history = new TrafficHistory(broker.counters, () => broker.connections.size)
  }

  start (intervalMs = 1000): void {
    this.timer ??= setInterval(() => this.tick(), intervalMs)
    this.timer.unref()
  }

  stop (): void {
    clearInterval(this.timer)
    this.timer = undefined
    this.processMonitor.stop()
  }

  overview (): BrokerOverview {
    return overviewOf(this.broker)
  }

  /** The process over the last second (before the first tick: since the broker started). */
  process (): ProcessStats {
    return this.latestProcess ?? this.processMonitor.stats()
  }

  latestTraffic (): TrafficSample | undefined {
    return this.history.latest()
  }

  /** Takes the second's samples now (the timer does it once a second). */
  tick (): void {
    this.latestProcess = this.processMonitor.stats()
    this.history.sample()
  }
}
