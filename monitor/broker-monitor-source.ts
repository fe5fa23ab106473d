import type { ConnectionDetail, ConnectionSummary } from '../actors/connection/connection-summary.js'
import type { Connection } from '../actors/connection/connection.js'
import type { Broker } from '../runtime/broker.js'
import { ConfigError } from '../runtime/config/config-error.js'
import { OPTIONS, type OptionKey } from '../runtime/config/options.js'
import type { RuntimeSettings, SettingChange, SettingView } from '../runtime/config/runtime-settings.js'
import { directorySize } from '../runtime/directory-size.js'
import type { LogEntry, RecentLogs } from '../runtime/recent-logs.js'
import type { BrokerMetrics } from '../runtime/metrics/broker-metrics.js'
import type { BrokerOverview } from '../runtime/metrics/broker-overview.js'
import type { PrometheusMetrics } from '../runtime/metrics/prometheus-metrics.js'
import type { ProcessStats } from '../runtime/metrics/process-stats.js'
import type { TrafficSample } from '../runtime/metrics/traffic-history.js'
import type { InspectionView, MonitorSource, SystemView } from './monitor-source.js'
import { stateName } from '../actors/connection/connection-summary.js'
import { connectionMachine } from '../actors/connection/connection.machine.js'
import { activeStateIds, type InspectedStep } from '../runtime/machine-inspector.js'
import { machineChart, type ChartableStateNode } from './machine-chart.js'

/** The connection machine never changes while the broker runs: charted once. */
const CONNECTION_MACHINE_CHART = machineChart(connectionMachine.root as unknown as ChartableStateNode)
import { exploreTopics, flowOf } from './topic-explorer.js'
import type { FlowView, TopicPage } from './topic-views.js'

/** The monitor's view of a broker in the same process: it reads the broker's own objects. */
export class BrokerMonitorSource implements MonitorSource {
  constructor (
    private readonly broker: Broker,
    private readonly metrics: BrokerMetrics,
    private readonly exporter: PrometheusMetrics,
    private readonly recentLogs: RecentLogs,
    private readonly runtimeSettings: RuntimeSettings
  ) {}

  async overview (): Promise<BrokerOverview> {
    return this.metrics.overview()
  }

  async process (): Promise<ProcessStats> {
    return this.metrics.process()
  }

  async traffic (limit?: number): Promise<TrafficSample[]> {
    return this.metrics.history.samples(limit)
  }

  onTraffic (listener: (sample: TrafficSample) => void): () => void {
    return this.metrics.history.subscribe(listener)
  }

  async connections (): Promise<ConnectionSummary[]> {
    return [...this.broker.connections].map(connection => connection.summary())
  }

  async connection (clientId: string): Promise<ConnectionDetail | undefined> {
    return this.find(clientId)?.detail()
  }

  async disconnect (clientId: string): Promise<boolean> {
    const connection = this.find(clientId)
    connection?.disconnectByAdmin()
    return connection !== undefined
  }

  async prometheus (): Promise<string> {
    return await this.exporter.text()
  }

  async system (): Promise<SystemView> {
    const { storage, dataDir, durability } = this.broker.config
    const bytes = storage === 'level' ? await directorySize(dataDir).catch(() => undefined) : undefined
    return {
      process: this.metrics.process(),
      listeners: this.broker.listenerAddresses,
      storage: storage === 'level' ? { kind: 'LevelDB', directory: dataDir, durability, bytes } : { kind: 'memory' }
    }
  }

  async inspection (clientId: string): Promise<InspectionView | undefined> {
    const connection = this.find(clientId)
    if (connection === undefined) return undefined
    const { value } = connection.actor.getSnapshot()
    return {
      clientId,
      enabled: this.broker.inspector !== undefined,
      chart: CONNECTION_MACHINE_CHART,
      state: stateName(value),
      activeIds: activeStateIds(connectionMachine.id, value),
      steps: this.broker.inspector?.history(connection.actor.sessionId) ?? []
    }
  }

  async followInspection (clientId: string, listener: (step: InspectedStep) => void): Promise<(() => void) | undefined> {
    const connection = this.find(clientId)
    if (connection === undefined) return undefined
    return this.broker.inspector?.follow(connection.actor.sessionId, listener)
  }

  async topics (prefix: string): Promise<TopicPage> {
    return exploreTopics(this.broker.router, prefix)
  }

  async flow (filter: string): Promise<FlowView> {
    return flowOf(this.broker.router, filter)
  }

  async logs (afterId?: number): Promise<LogEntry[]> {
    return this.recentLogs.entries(afterId)
  }

  onLog (listener: (entry: LogEntry) => void): () => void {
    return this.recentLogs.subscribe(listener)
  }

  async settings (): Promise<SettingView[]> {
    return this.runtimeSettings.list()
  }

  async changeSetting (name: string, value: string, by: string): Promise<SettingChange> {
    const key = (Object.keys(OPTIONS) as OptionKey[]).find(candidate => OPTIONS[candidate].name === name)
    if (key === undefined) throw new ConfigError(name, value, 'no such setting', 'monitor')
    return await this.runtimeSettings.change(key, value, by)
  }

  private find (clientId: string): Connection | undefined {
    if (clientId === '') return undefined
    for (const connection of this.broker.connections) if (connection.clientId === clientId) return connection
    return undefined
  }
}
