import type { FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import { RUNTIME_SETTINGS, type Broker } from '../runtime/broker.js'
import type { LoadedConfig } from '../runtime/config/load-config.js'
import { RuntimeSettings } from '../runtime/config/runtime-settings.js'
import { RecentLogs } from '../runtime/recent-logs.js'
import { OPTIONS, type BrokerConfig, type ConfigSource, type OptionKey } from '../runtime/config/options.js'
import { PrometheusMetrics } from '../runtime/metrics/prometheus-metrics.js'
import { buildMonitorApp } from './app.js'
import { MonitorUsers } from './auth/monitor-users.js'
import { BrokerMonitorSource } from './broker-monitor-source.js'
import type { MonitorSource } from './monitor-source.js'

export interface MonitorSettings {
  /** The configuration the broker was started with, and where each value came from; by default the broker's own, all of it counted as defaults. */
  readonly loaded?: LoadedConfig
  /** The broker's last log lines (createLogger keeps them there); by default an empty one, so the Logs page shows nothing. */
  readonly recentLogs?: RecentLogs
  readonly port: number
  /** Undefined: 0.0.0.0 with a password file, 127.0.0.1 without. */
  readonly host: string | undefined
  readonly passwordFile: string | undefined
  readonly admins: readonly string[]
  /** Turns the admin API on (for `troupe monitor` in another process); undefined keeps it off. */
  readonly adminToken?: string
}

/** The monitor cannot start as configured; the message says what to change. */
export class MonitorSetupError extends Error {
  override readonly name = 'MonitorSetupError'
}

export interface RunningMonitor {
  readonly url: string
  close (): Promise<void>
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost'])

/** Serves the monitor of `broker`, in its process, as `settings` say. */
export async function startMonitor (broker: Broker, settings: MonitorSettings, log: Logger): Promise<RunningMonitor> {
  const runtimeSettings = new RuntimeSettings(settings.loaded ?? asLoaded(broker.config), { changeable: RUNTIME_SETTINGS, apply: (key, value) => broker.applySetting(key, value) }, log)
  const source = new BrokerMonitorSource(broker, broker.metrics, new PrometheusMetrics(broker.metrics), settings.recentLogs ?? new RecentLogs(), runtimeSettings)
  return await serveMonitor(source, settings, log)
}

/** Serves a monitor of whatever broker `source` reads (this process's, or another's through its admin API). */
export async function serveMonitor (source: MonitorSource, settings: Omit<MonitorSettings, 'loaded' | 'recentLogs'>, log: Logger): Promise<RunningMonitor> {
  const users = settings.passwordFile === undefined ? undefined : await MonitorUsers.fromFile(settings.passwordFile, settings.admins)
  const host = settings.host ?? (users === undefined ? '127.0.0.1' : '0.0.0.0')
  if (users === undefined && !LOOPBACK.has(host)) {
    throw new MonitorSetupError(`monitor-host ${host} needs monitor-password-file: without a login the monitor may only listen on 127.0.0.1. Make users with troupe passwd FILE USER, or leave monitor-host unset`)
  }
  if (users !== undefined) {
    if (users.size === 0) log.warn({ file: settings.passwordFile }, 'monitor-password-file has no users: nobody can sign in to the monitor')
    const unknown = users.unknownAdmins()
    if (unknown.length > 0) log.warn({ admins: unknown, file: settings.passwordFile }, 'monitor-admins names users that are not in monitor-password-file')
  }
  const app: FastifyInstance = await buildMonitorApp({ source, users, log, adminToken: settings.adminToken })
  try {
    await app.listen({ host, port: settings.port })
  } catch (error) {
    await app.close()
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'EADDRINUSE') throw new MonitorSetupError(`monitor port ${settings.port} on ${host} is already in use: choose another with --monitor-port, or turn the monitor off with --no-monitor`)
    if (code === 'EACCES') throw new MonitorSetupError(`monitor port ${settings.port} on ${host} needs privileges this process lacks: choose a port above 1023 with --monitor-port`)
    throw error
  }
  const address = app.server.address()
  const port = typeof address === 'object' && address !== null ? address.port : settings.port
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}/`
  if (users === undefined) log.info({ url, host, port }, 'monitor listening on 127.0.0.1 only: no monitor-password-file is set, so nobody signs in')
  else log.info({ url, host, port, users: users.size }, 'monitor listening, login required')
  return { url, close: async () => await app.close() }
}

/** A configuration given in code, as if every value were a default. */
function asLoaded (config: BrokerConfig): LoadedConfig {
  const sources = Object.fromEntries((Object.keys(OPTIONS) as OptionKey[]).map(key => [key, 'default' as ConfigSource])) as Record<OptionKey, ConfigSource>
  return { config, sources, file: undefined }
}
