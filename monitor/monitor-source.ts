import type { ConnectionDetail, ConnectionSummary } from '../actors/connection/connection-summary.js'
import type { SettingChange, SettingView } from '../runtime/config/runtime-settings.js'
import type { BoundListener } from '../runtime/listeners/listener.js'
import type { LogEntry } from '../runtime/recent-logs.js'
import type { FlowView, TopicPage } from './topic-views.js'
import type { InspectedStep } from '../runtime/machine-inspector.js'
import type { MachineChart } from './machine-chart.js'
import type { BrokerOverview } from '../runtime/metrics/broker-overview.js'
import type { ProcessStats } from '../runtime/metrics/process-stats.js'
import type { TrafficSample } from '../runtime/metrics/traffic-history.js'

/**
 * Everything the monitor reads of a broker, and what it may do to it. In the broker's own
 * process this is the broker itself (broker-monitor-source.ts); in a monitor of its own
 * (`troupe monitor`), the broker's admin API (remote-monitor-source.ts).
 */
export interface MonitorSource {
  overview (): Promise<BrokerOverview>
  process (): Promise<ProcessStats>
  /** The last hour of one-second traffic samples, oldest first; at most `limit`. */
  traffic (limit?: number): Promise<TrafficSample[]>
  /** Calls `listener` with each new traffic sample (once a second) until the returned function is called. */
  onTraffic (listener: (sample: TrafficSample) => void): () => void
  connections (): Promise<ConnectionSummary[]>
  /** The connection of `clientId`, or undefined when no client with that id is connected. */
  connection (clientId: string): Promise<ConnectionDetail | undefined>
  /** Disconnects the client `clientId`; false when it is not connected. */
  disconnect (clientId: string): Promise<boolean>
  /** The Prometheus text exposition of every metric. */
  prometheus (): Promise<string>
  system (): Promise<SystemView>
  /** The state-machine inspector's view of `clientId`'s machine; undefined when that client is not connected. */
  inspection (clientId: string): Promise<InspectionView | undefined>
  /** Calls `listener` with each step of `clientId`'s machine while inspection is on; undefined when it cannot be followed. */
  followInspection (clientId: string, listener: (step: InspectedStep) => void): Promise<(() => void) | undefined>
  /** The topic explorer at `prefix` ('' for the root); looking switches the publish watch on for ten minutes. */
  topics (prefix: string): Promise<TopicPage>
  /** Publishers -> topics -> subscribers of the topics `filter` matches; looking switches the watch on too. */
  flow (filter: string): Promise<FlowView>
  /** The last log lines after `afterId`, oldest first. */
  logs (afterId?: number): Promise<LogEntry[]>
  onLog (listener: (entry: LogEntry) => void): () => void
  settings (): Promise<SettingView[]>
  /** Changes a setting that can change at run time; rejects with a ConfigError when the value or the key is not allowed. */
  changeSetting (name: string, value: string, by: string): Promise<SettingChange>
}

/** The System page: the process, where clients come in, and where state is kept. */
export interface SystemView {
  readonly process: ProcessStats
  readonly listeners: readonly BoundListener[]
  readonly storage: {
    readonly kind: string
    readonly directory?: string
    readonly durability?: string
    /** Bytes the data directory takes on disk; undefined for the memory store. */
    readonly bytes?: number
  }
}

/** A connection's machine as the inspector shows it. */
export interface InspectionView {
  readonly clientId: string
  /** False unless the broker runs with `inspect` (dev mode): the chart is shown, the stream is not recorded. */
  readonly enabled: boolean
  readonly chart: MachineChart
  readonly state: string
  /** The ids of the state nodes the machine is in now. */
  readonly activeIds: readonly string[]
  /** Its last steps, oldest first (empty when inspection is off). */
  readonly steps: readonly InspectedStep[]
}
