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
  private readonly processMonitor = new ProcessMonitor()
  private latestProcess: ProcessStats
  private timer: NodeJS.Timeout | undefined

  constructor (private readonly broker: Broker) {
    this.history = new TrafficHistory(broker.counters, () => broker.connections.size)
    this.latestProcess = this.processMonitor.stats()
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

  /** The process over the last second. */
  process (): ProcessStats {
    return this.latestProcess
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
