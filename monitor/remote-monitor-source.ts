import type { ConnectionDetail, ConnectionSummary } from '../actors/connection/connection-summary.js'
import { ConfigError } from '../runtime/config/config-error.js'
import type { SettingChange, SettingView } from '../runtime/config/runtime-settings.js'
import type { InspectedStep } from '../runtime/machine-inspector.js'
import type { BrokerOverview } from '../runtime/metrics/broker-overview.js'
import type { ProcessStats } from '../runtime/metrics/process-stats.js'
import type { TrafficSample } from '../runtime/metrics/traffic-history.js'
import type { LogEntry } from '../runtime/recent-logs.js'
import { ADMIN_API_PREFIX } from './admin-api.js'
import type { InspectionView, MonitorSource, SystemView } from './monitor-source.js'
import type { FlowView, TopicPage } from './topic-views.js'
import { fromWire } from './wire-format.js'

/** How often live pages ask the broker for news: its own sampling is once a second. */
const POLL_MS = 1000
/** How long one request to the broker may take. */
const REQUEST_TIMEOUT_MS = 10_000

/** The broker's admin API did not answer as it should; the message says why. */
export class BrokerUnreachableError extends Error {
  override readonly name = 'BrokerUnreachableError'
}

/**
 * A broker seen through its admin API, for a monitor in a process of its own (`troupe monitor
 * --monitor-broker URL`): each read is one request; live streams poll once a second while a
 * page follows them.
 */
export class RemoteMonitorSource implements MonitorSource {
  private readonly base: string

  constructor (brokerMonitorUrl: string, private readonly token: string) {
    this.base = `${brokerMonitorUrl.replace(/\/+$/, '')}${ADMIN_API_PREFIX}`
  }

  /** Checks the URL and the token once, so that a mistake stops the start rather than every page. */
  async check (): Promise<void> {
    await this.get<BrokerOverview>('/overview')
  }

  async overview (): Promise<BrokerOverview> { return await this.get('/overview') }
  async process (): Promise<ProcessStats> { return await this.get('/process') }
  async traffic (limit?: number): Promise<TrafficSample[]> { return await this.get(`/traffic${limit === undefined ? '' : `?limit=${limit}`}`) }
  async connections (): Promise<ConnectionSummary[]> { return await this.get('/connections') }
  async connection (clientId: string): Promise<ConnectionDetail | undefined> { return await this.get<ConnectionDetail | null>(`/connections/${encodeURIComponent(clientId)}`) ?? undefined }
  async disconnect (clientId: string): Promise<boolean> { return (await this.post<{ disconnected: boolean }>(`/connections/${encodeURIComponent(clientId)}/disconnect`, {})).disconnected }
  async inspection (clientId: string): Promise<InspectionView | undefined> { return await this.get<InspectionView | null>(`/inspection/${encodeURIComponent(clientId)}`) ?? undefined }
  async system (): Promise<SystemView> { return await this.get('/system') }
  async topics (prefix: string): Promise<TopicPage> { return await this.get(`/topics?prefix=${encodeURIComponent(prefix)}`) }
  async flow (filter: string): Promise<FlowView> { return await this.get(`/flow?filter=${encodeURIComponent(filter)}`) }
  async logs (afterId?: number): Promise<LogEntry[]> { return await this.get(`/logs${afterId === undefined ? '' : `?after=${afterId}`}`) }
  async settings (): Promise<SettingView[]> { return await this.get('/settings') }

  async changeSetting (name: string, value: string, by: string): Promise<SettingChange> {
    const answer = await this.post<SettingChange | { error: string }>('/settings', { name, value, by }, [400])
    if ('error' in answer) throw new ConfigError(name, value, answer.error.replace(/^invalid \S+ "[^"]*" \(from monitor\): /, ''), 'monitor')
    return answer
  }

  async prometheus (): Promise<string> {
    return await (await this.request('/metrics')).text()
  }

  onTraffic (listener: (sample: TrafficSample) => void): () => void {
    let last = 0
    return this.poll(async () => {
      const [sample] = await this.traffic(1)
      if (sample !== undefined && sample.at !== last) {
        last = sample.at
        listener(sample)
      }
    })
  }

  onLog (listener: (entry: LogEntry) => void): () => void {
    let after: number | undefined
    return this.poll(async () => {
      if (after === undefined) {
        after = (await this.logs()).at(-1)?.id ?? 0
        return
      }
      for (const entry of await this.logs(after)) {
        after = entry.id
        listener(entry)
      }
    })
  }

  async followInspection (clientId: string, listener: (step: InspectedStep) => void): Promise<(() => void) | undefined> {
    const first = await this.inspection(clientId)
    if (first === undefined || !first.enabled) return undefined
    let seen = first.steps.at(-1)?.at ?? 0
    return this.poll(async () => {
      const view = await this.inspection(clientId)
      for (const step of view?.steps ?? []) {
        if (step.at <= seen) continue
        listener(step)
      }
      seen = view?.steps.at(-1)?.at ?? seen
    })
  }

  /** Runs `tick` once a second until the returned function is called; a failed tick waits for the next. */
  private poll (tick: () => Promise<void>): () => void {
    let stopped = false
    const timer = setInterval(() => { if (!stopped) tick().catch(() => undefined) }, POLL_MS)
    return () => {
      stopped = true
      clearInterval(timer)
    }
  }

  private async get<T> (path: string): Promise<T> {
    return fromWire<T>(await (await this.request(path)).json())
  }

  private async post<T> (path: string, body: unknown, accepted: readonly number[] = []): Promise<T> {
    return fromWire<T>(await (await this.request(path, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }, accepted)).json())
  }

  private async request (path: string, init: RequestInit = {}, accepted: readonly number[] = []): Promise<Response> {
    let response: Response
    try {
      response = await fetch(`${this.base}${path}`, { ...init, headers: { ...init.headers as Record<string, string>, authorization: `Bearer ${this.token}` }, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) })
    } catch (error) {
      throw new BrokerUnreachableError(`the broker's monitor at ${this.base} does not answer (${(error as Error).message}): check --monitor-broker and that the broker runs with its monitor on`)
    }
    if (response.ok || accepted.includes(response.status)) return response
    const detail = (await response.text()).slice(0, 200)
    throw new BrokerUnreachableError(response.status === 401
      ? `the broker refused the admin token (401): give the broker's monitor-admin-token with --monitor-admin-token`
      : `the broker's admin API at ${this.base}${path} answered ${response.status}: ${detail}`)
  }
}
