import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { formatPasswordFileLine } from '../../runtime/auth/password-file.js'
import { hashPassword } from '../../runtime/auth/password-hash.js'
import { closeAllClients, connectClient } from '../helpers/mqtt-clients.js'
import { killAll, runCli, startCliBroker, type CliBroker } from '../helpers/processes.js'

/**
 * The monitor's options through the real CLI (built in dist/): on by default and on
 * 127.0.0.1 only without a login, off with --no-monitor, a login from
 * --monitor-password-file, --monitor-admins from a YAML list or TROUPE_MONITOR_ADMINS, and
 * every mistake (an open address without a login, a bad password file, a port in use) a
 * one-line error with exit code 2. `troupe --help` is covered by cli.test.ts.
 */

interface Context {
  dir: string
  servers: Server[]
}

const test = suite<Context>('cli: monitor options')

test.before(context => { context.dir = mkdtempSync(join(tmpdir(), 'troupe-cli-monitor-')) })
test.after(context => { rmSync(context.dir, { recursive: true, force: true }) })
test.before.each(context => { context.servers = [] })
test.after.each(async context => {
  await closeAllClients()
  await killAll()
  for (const server of context.servers) await new Promise(resolve => server.close(resolve))
})

const TIMEOUT_MS = 10_000

const ALICE = { user: 'alice', password: 'rabbit hole 42' }
const BOB = { user: 'bob', password: 'builder of things' }

/** A Mosquitto password file with alice and bob (few PBKDF2 rounds: the login is under test, not the hash). */
async function passwordFile (dir: string, name: string): Promise<string> {
  const file = join(dir, name)
  const lines = await Promise.all([ALICE, BOB].map(async ({ user, password }) => formatPasswordFileLine(user, await hashPassword(Buffer.from(password, 'utf8'), 1000))))
  writeFileSync(file, `${lines.join('\n')}\n`, { mode: 0o600 })
  return file
}

/** The monitor's "listening" log line, once the CLI wrote it. */
async function monitorLine (broker: CliBroker): Promise<Record<string, unknown>> {
  return await broker.process.waitFor(
    () => broker.logs().find(line => typeof line.msg === 'string' && line.msg.startsWith('monitor listening')),
    'the monitor\'s listening log line',
    TIMEOUT_MS
  )
}

/** The monitor's address to fetch from here: a monitor on 0.0.0.0 is reached on 127.0.0.1. */
function localUrl (line: Record<string, unknown>): string {
  return `http://127.0.0.1:${Number(line.port)}/`
}

/** Signs in as `account`; returns the session cookie (`name=value`). */
async function signIn (url: string, account: { user: string, password: string }): Promise<string> {
  const response = await fetch(`${url}login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ user: account.user, password: account.password, next: '/' }).toString()
  })
  assert.is(response.status, 303, `${account.user} signs in`)
  const cookie = response.headers.get('set-cookie')
  assert.ok(cookie !== null, 'a session cookie is set')
  return cookie.split(';')[0]!
}

/** The role the dashboard shows for whoever holds `cookie`. */
async function roleOf (url: string, cookie: string): Promise<string | undefined> {
  const page = await fetch(url, { headers: { cookie }, redirect: 'manual' })
  assert.is(page.status, 200)
  return /<span class="role">([^<]*)<\/span>/.exec(await page.text())?.[1]
}

test('by default the monitor starts on 127.0.0.1 only, says why, and /healthz answers ok', async () => {
  const broker = await startCliBroker()
  const line = await monitorLine(broker)
  assert.is(line.msg, 'monitor listening on 127.0.0.1 only: no monitor-password-file is set, so nobody signs in')
  assert.is(line.host, '127.0.0.1')
  assert.match(String(line.url), /^http:\/\/127\.0\.0\.1:\d+\/$/)
  const health = await fetch(`${String(line.url)}healthz`)
  assert.is(health.status, 200)
  assert.is(await health.text(), 'ok')
  // No login: the dashboard itself is served.
  assert.is((await fetch(String(line.url), { redirect: 'manual' })).status, 200)
})

test('--no-monitor starts no monitor; the broker serves MQTT and stops cleanly', async () => {
  const broker = await startCliBroker(['--no-monitor'])
  const client = await connectClient(`mqtt://127.0.0.1:${broker.port}`)
  await client.publishAsync('still/here', 'yes', { qos: 1 })
  await client.endAsync()
  const exit = await broker.process.stop('SIGTERM', 5000)
  assert.is(exit.code, 0, broker.process.output())
  const logs = broker.logs()
  assert.ok(logs.some(line => line.msg === 'broker stopped'), 'the broker ran to a clean stop')
  assert.equal(logs.filter(line => typeof line.msg === 'string' && line.msg.startsWith('monitor')).map(line => line.msg), [], 'no monitor log line')
})

test('--monitor false starts no monitor either', async () => {
  const broker = await startCliBroker(['--monitor', 'false'])
  const client = await connectClient(`mqtt://127.0.0.1:${broker.port}`)
  await client.endAsync()
  assert.is((await broker.process.stop('SIGTERM', 5000)).code, 0)
  assert.not.ok(broker.logs().some(line => typeof line.msg === 'string' && line.msg.startsWith('monitor listening')))
})

test('--no-monitor with --monitor true is a config error: exit 2', async () => {
  const result = await runCli(['--host', '127.0.0.1', '--port', '0', '--no-monitor', '--monitor', 'true'])
  assert.is(result.code, 2, result.stderr)
  assert.match(result.stderr, /^troupe: invalid monitor .*--monitor or --no-monitor, not both/)
  assert.is(result.stderr.trim().split('\n').length, 1, 'one line')
})

test('--monitor-host 0.0.0.0 without --monitor-password-file: exit 2, naming monitor-password-file', async () => {
  const result = await runCli(['--host', '127.0.0.1', '--port', '0', '--monitor-host', '0.0.0.0'])
  assert.is(result.code, 2, result.stderr)
  assert.match(result.stderr, /^troupe: .*monitor-host 0\.0\.0\.0 needs monitor-password-file/)
  assert.is(result.stderr.trim().split('\n').length, 1, 'one line')
})

test('a --monitor-password-file with a bad line: exit 2, naming the key and the line', async ({ dir }) => {
  const file = join(dir, 'bad-monitor.passwd')
  writeFileSync(file, 'alice:not-a-hash\n', { mode: 0o600 })
  const result = await runCli(['--host', '127.0.0.1', '--port', '0', '--monitor-password-file', file])
  assert.is(result.code, 2, result.stderr)
  assert.match(result.stderr, /^troupe: invalid monitor-password-file /)
  assert.ok(result.stderr.includes(file), `the message names the file: ${result.stderr}`)
  assert.match(result.stderr, /\(from --monitor-password-file\)/)
  assert.match(result.stderr, /line 1/)
})

test('a --monitor-password-file that does not exist: exit 2, naming the key', async ({ dir }) => {
  const result = await runCli(['--host', '127.0.0.1', '--port', '0', '--monitor-password-file', join(dir, 'no-such-file')])
  assert.is(result.code, 2, result.stderr)
  assert.match(result.stderr, /^troupe: invalid monitor-password-file /)
})

test('with a good password file and --monitor-host 127.0.0.1 the monitor listens there and asks for a login', async ({ dir }) => {
  const file = await passwordFile(dir, 'monitor-local.passwd')
  const broker = await startCliBroker(['--monitor-password-file', file, '--monitor-host', '127.0.0.1'])
  const line = await monitorLine(broker)
  assert.is(line.msg, 'monitor listening, login required')
  assert.is(line.host, '127.0.0.1')
  assert.is(line.users, 2)
  const home = await fetch(String(line.url), { redirect: 'manual' })
  assert.is(home.status, 303)
  assert.match(home.headers.get('location') ?? '', /^\/login\b/)
  const cookie = await signIn(String(line.url), ALICE)
  assert.is(await roleOf(String(line.url), cookie), 'viewer', 'without monitor-admins everyone only looks')
})

test('with a password file and no --monitor-host the monitor listens on every address', async ({ dir }) => {
  const file = await passwordFile(dir, 'monitor-open.passwd')
  const broker = await startCliBroker(['--monitor-password-file', file])
  const line = await monitorLine(broker)
  assert.is(line.host, '0.0.0.0')
  const home = await fetch(localUrl(line), { redirect: 'manual' })
  assert.is(home.status, 303)
  assert.match(home.headers.get('location') ?? '', /^\/login\b/)
})

test('a --monitor-port already in use: exit 2, naming --monitor-port', async context => {
  const taken = createServer()
  context.servers.push(taken)
  await new Promise<void>(resolve => taken.listen(0, '127.0.0.1', resolve))
  const port = (taken.address() as { port: number }).port
  const result = await runCli(['--host', '127.0.0.1', '--port', '0', '--monitor-port', String(port)])
  assert.is(result.code, 2, result.stderr)
  assert.match(result.stderr, new RegExp(`^troupe: monitor port ${port} on 127\\.0\\.0\\.1 is already in use: .*--monitor-port`))
  assert.is(result.stderr.trim().split('\n').length, 1, 'one line')
})

test('monitor-admins as a YAML list in the config file: those users are admins, the others viewers', async ({ dir }) => {
  const file = await passwordFile(dir, 'monitor-yaml.passwd')
  const config = join(dir, 'monitor-admins.yaml')
  writeFileSync(config, ['monitor-host: 127.0.0.1', `monitor-password-file: ${JSON.stringify(file)}`, 'monitor-admins:', '  - alice', '  - ghost', ''].join('\n'))
  const broker = await startCliBroker(['--config', config])
  const line = await monitorLine(broker)
  const warning = broker.logs().find(log => log.msg === 'monitor-admins names users that are not in monitor-password-file')
  assert.ok(warning !== undefined, 'a warning names the admin who is not in the file')
  assert.equal(warning.admins, ['ghost'])
  assert.is(await roleOf(String(line.url), await signIn(String(line.url), ALICE)), 'admin')
  assert.is(await roleOf(String(line.url), await signIn(String(line.url), BOB)), 'viewer')
})

test('TROUPE_MONITOR_ADMINS=a,b: a comma-separated list of admins', async ({ dir }) => {
  const file = await passwordFile(dir, 'monitor-env.passwd')
  const broker = await startCliBroker(['--monitor-password-file', file, '--monitor-host', '127.0.0.1'], { TROUPE_MONITOR_ADMINS: 'bob,ghost' })
  const line = await monitorLine(broker)
  const warning = broker.logs().find(log => log.msg === 'monitor-admins names users that are not in monitor-password-file')
  assert.equal(warning?.admins, ['ghost'])
  assert.is(await roleOf(String(line.url), await signIn(String(line.url), BOB)), 'admin')
  assert.is(await roleOf(String(line.url), await signIn(String(line.url), ALICE)), 'viewer')
})

test('SIGTERM stops the broker and the monitor, exit 0', async () => {
  const broker = await startCliBroker()
  const line = await monitorLine(broker)
  assert.is((await fetch(`${String(line.url)}healthz`)).status, 200)
  const exit = await broker.process.stop('SIGTERM', 5000)
  assert.is(exit.code, 0, broker.process.output())
  assert.ok(broker.logs().some(log => log.msg === 'broker stopped'))
  let refused = false
  try {
    await fetch(`${String(line.url)}healthz`)
  } catch {
    refused = true
  }
  assert.ok(refused, 'the monitor\'s port no longer answers')
})

test.run()
