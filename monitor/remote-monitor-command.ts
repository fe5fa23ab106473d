import type { Logger } from 'pino'
import type { BrokerConfig } from '../runtime/config/options.js'
import { RemoteMonitorSource } from './remote-monitor-source.js'
import { MonitorSetupError, serveMonitor, type RunningMonitor } from './start-monitor.js'

/**
 * `troupe monitor`: the monitor in a process of its own, reading a broker through the admin
 * API of the broker's monitor (`monitor-broker`, `monitor-admin-token`), so that the two can
 * run as separate services. Its own port, host, users and admins are the monitor options.
 */
export async function runRemoteMonitor (config: BrokerConfig, log: Logger): Promise<RunningMonitor> {
  if (config.monitorBroker === undefined) throw new MonitorSetupError('troupe monitor needs --broker URL (or monitor-broker): the address of the broker\'s own monitor, such as http://broker:8080/')
  if (config.monitorAdminToken === undefined) throw new MonitorSetupError('troupe monitor needs the broker\'s monitor-admin-token: give it with TROUPE_MONITOR_ADMIN_TOKEN (or --monitor-admin-token)')
  const source = new RemoteMonitorSource(config.monitorBroker, config.monitorAdminToken)
  await source.check()
  const monitor = await serveMonitor(source, { port: config.monitorPort, host: config.monitorHost, passwordFile: config.monitorPasswordFile, admins: config.monitorAdmins }, log)
  log.info({ broker: config.monitorBroker, url: monitor.url }, 'monitor of a broker in another process')
  return monitor
}
