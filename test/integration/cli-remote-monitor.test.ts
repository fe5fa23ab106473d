import { fileURLToPath } from 'node:url'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { closeAllClients, connectClient, eventually } from '../helpers/mqtt-clients.js'
import { cleanEnv, killAll, runCli, spawnTracked, startCliBroker, type CliBroker, type TrackedProcess } from '../helpers/processes.js'

/**
 * `troupe monitor`: the monitor as a process of its own, reading a broker (another real CLI
 * process) through its monitor's admin API, as docker compose runs them as two services.
 */

const test = suite('cli: troupe monitor, the monitor in a process of its own')
const TIMEOUT_MS = 10_000
const CLI = fileURLToPath(new URL('../../dist/runtime/cli.js', import.meta.url))
const TOKEN = 'test-admin-token-0123456789'

test.after.each(async () => {
  await closeAllClients()
  await killAll()
})

/** A broker whose monitor serves the admin API with TOKEN; resolves with its monitor's URL. */
async function brokerWithAdminApi (): Promise<{ broker: CliBroker, monitorUrl: string }> {
  const broker = await startCliBroker([], { TROUPE_MONITOR_ADMIN_TOKEN: TOKEN })
  const line = await broker.process.waitFor(() => broker.logs().find(entry => typeof entry.msg === 'string' && entry.msg.startsWith('monitor listening')), 'the broker\'s monitor', TIMEOUT_MS)
  return { broker, monitorUrl: String(line.url) }
}

/** `troupe monitor` for the broker at `monitorUrl`; resolves once it listens, with its URL. */
async function remoteMonitor (monitorUrl: string, token = TOKEN): Promise<{ process: TrackedProcess, url: string }> {
  const child = spawnTracked(process.execPath, [CLI, 'monitor', '--broker', monitorUrl], { env: cleanEnv({ TROUPE_MONITOR_ADMIN_TOKEN: token }) })
  const line = await child.waitForLine(text => text.includes('monitor of a broker in another process'), TIMEOUT_MS)
  return { process: child, url: String((JSON.parse(line) as { url: string }).url) }
}

test('the separate monitor shows the broker\'s connections and metrics, and its Disconnect disconnects the broker\'s client', async () => {
  const { broker, monitorUrl } = await brokerWithAdminApi()
  const monitor = await remoteMonitor(monitorUrl)
  const client = await connectClient(`mqtt://127.0.0.1:${broker.port}`, { clientId: 'far-away-sensor' })
  let closed = false
  client.on('close', () => { closed = true })
  await client.subscribeAsync('far/#', { qos: 1 })

  const list = await (await fetch(`${monitor.url}connections`)).text()
  assert.match(list, /far-away-sensor/)
  const detail = await (await fetch(`${monitor.url}connections/far-away-sensor`)).text()
  assert.match(detail, /far\/#/, 'its subscription, read from the broker')
  assert.match(await (await fetch(`${monitor.url}metrics`)).text(), /^troupe_connections 1$/m, 'the broker\'s own metrics')
  const dashboard = await (await fetch(monitor.url)).text()
  assert.match(dashboard, /data-live="connections">1</)

  const csrf = /name="csrf" value="([^"]+)"/.exec(detail)?.[1]
  assert.ok(csrf !== undefined)
  const response = await fetch(`${monitor.url}connections/far-away-sensor/disconnect`, { method: 'POST', redirect: 'manual', body: new URLSearchParams({ csrf }), headers: { 'content-type': 'application/x-www-form-urlencoded' } })
  assert.is(response.status, 303)
  await eventually(() => closed, 'the broker to close the client', TIMEOUT_MS)
  await monitor.process.stop('SIGTERM', 5000)
})

test('a setting changed in the separate monitor is applied by the broker', async () => {
  const { broker, monitorUrl } = await brokerWithAdminApi()
  const monitor = await remoteMonitor(monitorUrl)
  const page = await (await fetch(`${monitor.url}configuration`)).text()
  const csrf = /name="csrf" value="([^"]+)"/.exec(page)?.[1]
  assert.ok(csrf !== undefined)
  const response = await fetch(`${monitor.url}configuration`, { method: 'POST', redirect: 'manual', body: new URLSearchParams({ csrf, name: 'log-level', value: 'debug' }), headers: { 'content-type': 'application/x-www-form-urlencoded' } })
  assert.is(response.status, 303)
  await broker.process.waitFor(() => broker.logs().find(line => line.msg === 'setting changed from the monitor'), 'the broker\'s log of the change', TIMEOUT_MS)
  const refused = await fetch(`${monitor.url}configuration`, { method: 'POST', body: new URLSearchParams({ csrf, name: 'log-level', value: 'loud' }), headers: { 'content-type': 'application/x-www-form-urlencoded' } })
  assert.is(refused.status, 400)
  assert.match(await refused.text(), /expected one of fatal, error, warn, info, debug, trace, silent/)
})

test('the admin API refuses requests without the token (401), and is off (404) on a broker without one', async () => {
  const { monitorUrl } = await brokerWithAdminApi()
  assert.is((await fetch(`${monitorUrl}api/v1/overview`)).status, 401)
  assert.is((await fetch(`${monitorUrl}api/v1/overview`, { headers: { authorization: 'Bearer not-the-token-at-all-000' } })).status, 401)
  assert.is((await fetch(`${monitorUrl}api/v1/connections`, { headers: { authorization: `Bearer ${TOKEN}` } })).status, 200)
  const plain = await startCliBroker()
  const line = await plain.process.waitFor(() => plain.logs().find(entry => typeof entry.msg === 'string' && entry.msg.startsWith('monitor listening')), 'the monitor', TIMEOUT_MS)
  const off = await fetch(`${String(line.url)}api/v1/overview`, { headers: { authorization: `Bearer ${TOKEN}` } })
  assert.is(off.status, 404)
  assert.match(await off.text(), /admin API is off: start the broker with monitor-admin-token/)
})

test('--broker belongs to troupe monitor: given to the broker it is a config error', async () => {
  const result = await runCli(['--broker', 'http://127.0.0.1:8080/', '--port', '0'])
  assert.is(result.code, 2)
  assert.match(result.stderr, /--broker .*is for troupe monitor/)
})

test('troupe monitor stops at start, exit 2, with a wrong token, without --monitor-broker, or with no broker there', async () => {
  const { monitorUrl } = await brokerWithAdminApi()
  const wrong = await runCli(['monitor', '--monitor-broker', monitorUrl, '--monitor-port', '0'], { TROUPE_MONITOR_ADMIN_TOKEN: 'a-wrong-token-0123456789' })
  assert.is(wrong.code, 2)
  assert.match(wrong.stderr, /refused the admin token \(401\)/)
  const missing = await runCli(['monitor', '--monitor-port', '0'], { TROUPE_MONITOR_ADMIN_TOKEN: TOKEN })
  assert.is(missing.code, 2)
  assert.match(missing.stderr, /needs --broker URL/)
  const nobody = await runCli(['monitor', '--monitor-broker', 'http://127.0.0.1:9/', '--monitor-port', '0'], { TROUPE_MONITOR_ADMIN_TOKEN: TOKEN })
  assert.is(nobody.code, 2)
  assert.match(nobody.stderr, /does not answer/)
  const short = await runCli(['monitor', '--monitor-broker', monitorUrl, '--monitor-port', '0'], { TROUPE_MONITOR_ADMIN_TOKEN: 'short' })
  assert.is(short.code, 2)
  assert.match(short.stderr, /invalid monitor-admin-token "\(hidden\)".*at least 16 characters/)
})

test.run()
