import type { ConnectionDetail, ConnectionSummary } from '../actors/connection/connection-summary.js'
import type { Connection } from '../actors/connection/connection.js'
import type { Broker } from '../runtime/broker.js'
import type { BrokerMetrics } from '../runtime/metrics/broker-metrics.js'
import type { BrokerOverview } from '../runtime/metrics/broker-overview.js'
import type { PrometheusMetrics } from '../runtime/metrics/prometheus-metrics.js'
import type { ProcessStats } from '../runtime/metrics/process-stats.js'
import type { TrafficSample } from '../runtime/metrics/traffic-history.js'
import type { MonitorSource } from './monitor-source.js'

/** The monitor's view of a broker in the same process: it reads the broker's own objects. */
export class BrokerMonitorSource implements MonitorSource {
  constructor (
    private readonly broker: Broker,
    private readonly metrics: BrokerMetrics,
    private readonly exporter: PrometheusMetrics
  ) {}

  overview (): BrokerOverview {
    return this.metrics.overview()
  }

  process (): ProcessStats {
    return this.metrics.process()
  }

  traffic (limit?: number): TrafficSample[] {
    return this.metrics.history.samples(limit)
  }

  onTraffic (listener: (sample: TrafficSample) => void): () => void {
    return this.metrics.history.subscribe(listener)
  }

  connections (): ConnectionSummary[] {
    return [...this.broker.connections].map(connection => connection.summary())
  }

  connection (clientId: string): ConnectionDetail | undefined {
    return this.find(clientId)?.detail()
  }

  disconnect (clientId: string): boolean {
    const connection = this.find(clientId)
    connection?.disconnectByAdmin()
    return connection !== undefined
  }

  async prometheus (): Promise<string> {
    return await this.exporter.text()
  }

  private find (clientId: string): Connection | undefined {
    if (clientId === '') return undefined
    for (const connection of this.broker.connections) if (connection.clientId === clientId) return connection
    return undefined
  }
}
