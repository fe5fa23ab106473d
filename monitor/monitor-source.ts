import type { ConnectionDetail, ConnectionSummary } from '../actors/connection/connection-summary.js'
import type { BrokerOverview } from '../runtime/metrics/broker-overview.js'
import type { ProcessStats } from '../runtime/metrics/process-stats.js'
import type { TrafficSample } from '../runtime/metrics/traffic-history.js'

/**
 * Everything the monitor reads of a broker, and the one thing it may do to it. In the broker's
 * own process this is the broker itself (broker-monitor-source.ts).
 */
export interface MonitorSource {
  overview (): BrokerOverview
  process (): ProcessStats
  /** The last hour of one-second traffic samples, oldest first; at most `limit`. */
  traffic (limit?: number): TrafficSample[]
  /** Calls `listener` with each new traffic sample (once a second) until the returned function is called. */
  onTraffic (listener: (sample: TrafficSample) => void): () => void
  connections (): ConnectionSummary[]
  /** The connection of `clientId`, or undefined when no client with that id is connected. */
  connection (clientId: string): ConnectionDetail | undefined
  /** Disconnects the client `clientId`; false when it is not connected. */
  disconnect (clientId: string): boolean
  /** The Prometheus text exposition of every metric. */
  prometheus (): Promise<string>
}
