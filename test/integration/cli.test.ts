import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { OPTIONS } from '../../runtime/config/options.js'
import { closeAllClients, connectClient } from '../helpers/mqtt-clients.js'
import { freePorts } from '../helpers/free-ports.js'
import { killAll, runCli, startCliBroker, type CliBroker, type RunResult } from '../helpers/processes.js'
import { RawClient } from '../helpers/raw-client.js'

/**
 * The real command line: `node dist/runtime/cli.js` as a child process (npm test builds dist/
 * first). Effective configuration is proven by what the broker does: the port it listens on
 * and how many messages it queues for an offline session.
 */

const test = suite<{ dir: string }>('cli')

test.before(context => { context.dir = mkdtempSync(join(tmpdir(), 'troupe-cli-')) })
test.after(context => { rmSync(context.dir, { recursive: true, force: true }) })
test.after.each(async () => {
  RawClient.closeAll()
  await closeAllClients()
  await killAll()
})

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
const OPTION_LIST = Object.values(OPTIONS)

let files = 0
function writeConfig (dir: string, text: string): string {
  const path = join(dir, `config-${++files}.yaml`)
  writeFileSync(path, text)
  return path
}

function stderrLines (result: RunResult): string[] {
  return result.stderr.split('\n').filter(line => line.trim().length > 0)
}

/**
 * How many QoS 1 messages the broker keeps for an offline persistent session: subscribe,
 * go away, have 6 published, come back and count what arrives before a live message sent
 * after the reconnect (queued messages are resent first, in order).
 */
async function queuedForOfflineSession (cli: CliBroker): Promise<number> {
  const subscriber = await RawClient.connect(cli.port)
  await subscriber.handshake({ clientId: 'queue-probe', clean: false })
  subscriber.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'probe/queue', qos: 1 }] })
  await subscriber.next('suback')
  subscriber.send({ cmd: 'disconnect' })
  await subscriber.closed

  const publisher = await connectClient(`mqtt://127.0.0.1:${cli.port}`)
  for (let n = 1; n <= 6; n++) await publisher.publishAsync('probe/queue', `queued ${n}`, { qos: 1 })

  const back = await RawClient.connect(cli.port)
  const connack = await back.handshake({ clientId: 'queue-probe', clean: false })
  assert.is(connack.sessionPresent, true, 'the session was kept')
  await publisher.publishAsync('probe/queue', 'live', { qos: 1 })
  const payloads: string[] = []
  while (payloads.at(-1) !== 'live') payloads.push((await back.next('publish')).payload.toString())
  back.end()
  await publisher.endAsync()
  assert.equal(payloads.slice(0, -1), Array.from({ length: payloads.length - 1 }, (_, i) => `queued ${i + 1}`), 'the first messages, in order')
  return payloads.length - 1
}

test('--help lists every option with its environment variable and default, and exits 0', async () => {
  for (const flag of ['--help', '-h']) {
    const result = await runCli([flag])
    assert.is(result.code, 0, result.stderr)
    for (const option of OPTION_LIST) {
      const line = result.stdout.split('\n').find(text => text.trimStart().startsWith(`--${option.name} `))
      assert.ok(line !== undefined, `--${option.name} is listed`)
      assert.ok(line.includes(option.env), `${option.name}: its variable ${option.env}`)
      assert.ok(line.includes(`default ${String(option.defaultValue ?? 'none')}`), `${option.name}: its default`)
    }
    const flags = new Set([...result.stdout.matchAll(/(?<![\w-])--([a-z][a-z-]*)/g)].map(match => match[1]))
    assert.equal([...flags].sort(), [...OPTION_LIST.map(option => option.name), 'config', 'help', 'version', 'password-stdin', 'no-monitor', 'broker'].sort(), 'no more and no fewer flags than options.ts has (and scram-user\'s own, --no-monitor and --broker)')
  }
})

test('--version and -v print the version from package.json and exit 0', async () => {
  for (const flag of ['--version', '-v']) {
    const result = await runCli([flag])
    assert.is(result.code, 0, result.stderr)
    assert.is(result.stdout.trim(), pkg.version)
  }
})

interface BadInput {
  readonly name: string
  readonly args?: (dir: string) => string[]
  readonly env?: Record<string, string>
  /** Each must appear in the one stderr line. */
  readonly names: (dir: string) => string[]
}

const BAD_INPUTS: BadInput[] = [
  { name: '--port abc', args: () => ['--port', 'abc'], names: () => ['port', '"abc"', 'whole number from 0 to 65535'] },
  { name: '--max-keepalive 0', args: () => ['--max-keepalive', '0'], names: () => ['max-keepalive', '"0"', 'from 1 to 65535'] },
  { name: '--log-level loud', args: () => ['--log-level', 'loud'], names: () => ['log-level', '"loud"', 'fatal, error, warn, info, debug, trace, silent'] },
  { name: 'an unknown flag', args: () => ['--colour', 'red'], names: () => ['--colour', 'troupe --help'] },
  { name: 'a flag without its value', args: () => ['--port'], names: () => ['--port'] },
  { name: 'an unknown command', args: () => ['stop'], names: () => ['"stop"'] },
  { name: 'an unknown key in the config file', args: dir => ['--config', writeConfig(dir, 'port: 0\ncolour: red\n')], names: () => ['colour', '"red"', 'unknown option', 'max-queued'] },
  { name: 'a bad value in the config file', args: dir => ['--config', writeConfig(dir, 'max-inflight: 0\n')], names: () => ['max-inflight', '0', 'config-', 'from 1 to 65535'] },
  { name: 'a missing config file', args: dir => ['--config', join(dir, 'missing.yaml')], names: dir => ['config', join(dir, 'missing.yaml'), 'ENOENT'] },
  { name: 'a config file that is not valid YAML', args: dir => ['--config', writeConfig(dir, 'port: [1\nhost: x\n')], names: () => ['config', 'not valid YAML'] },
  { name: 'a config file that is not a mapping', args: dir => ['--config', writeConfig(dir, '- port\n- 1883\n')], names: () => ['config', 'mapping'] },
  { name: 'a bad TROUPE_PORT', env: { TROUPE_PORT: 'x' }, names: () => ['port', '"x"', 'TROUPE_PORT'] },
  { name: 'an unknown TROUPE_ variable', env: { TROUPE_COLOUR: 'red' }, names: () => ['TROUPE_COLOUR', '"red"'] }
]

for (const bad of BAD_INPUTS) {
  test(`${bad.name}: exits 2 with one stderr line naming it, and starts nothing`, async ({ dir }) => {
    const result = await runCli(bad.args?.(dir) ?? [], bad.env ?? {})
    assert.is(result.code, 2, `exit code\n${result.stdout}${result.stderr}`)
    const lines = stderrLines(result)
    assert.is(lines.length, 1, `one line:\n${result.stderr}`)
    for (const text of bad.names(dir)) assert.ok(lines[0]!.includes(text), `"${text}" in: ${lines[0]}`)
    assert.is(result.stdout, '', 'no broker log')
  })
}

test('precedence: a config file sets host, port and max-queued', async ({ dir }) => {
  const [filePort] = await freePorts(1)
  const config = writeConfig(dir, `host: 127.0.0.1\nport: ${filePort}\nmax-queued: 2\n`)
  const cli = await startCliBroker(['--config', config], {}, { bind: false })
  assert.is(cli.port, filePort)
  assert.is(cli.host, '127.0.0.1')
  assert.is(await queuedForOfflineSession(cli), 2)
  assert.ok(cli.logs().some(line => line.msg === 'session queue full: dropping messages until it drains' && line.maxQueued === 2), 'the overflow is logged with the limit')
})

test('precedence: TROUPE_CONFIG names the config file', async ({ dir }) => {
  const [filePort] = await freePorts(1)
  const config = writeConfig(dir, `host: 127.0.0.1\nport: ${filePort}\n`)
  const cli = await startCliBroker([], { TROUPE_CONFIG: config }, { bind: false })
  assert.is(cli.port, filePort)
})

test('precedence: TROUPE_* variables override the config file', async ({ dir }) => {
  const [filePort, envPort] = await freePorts(2)
  // 127.0.0.2 is loopback too, but the broker must end up on 127.0.0.1, where the probe connects.
  const config = writeConfig(dir, `host: 127.0.0.2\nport: ${filePort}\nmax-queued: 2\n`)
  const cli = await startCliBroker(['--config', config], { TROUPE_HOST: '127.0.0.1', TROUPE_PORT: String(envPort), TROUPE_MAX_QUEUED: '3' }, { bind: false })
  assert.is(cli.port, envPort)
  assert.is(cli.host, '127.0.0.1')
  assert.is(await queuedForOfflineSession(cli), 3)
})

test('precedence: flags override TROUPE_* variables and the file', async ({ dir }) => {
  const [filePort, envPort, flagPort] = await freePorts(3)
  const config = writeConfig(dir, `host: 127.0.0.2\nport: ${filePort}\nmax-queued: 2\n`)
  const cli = await startCliBroker(
    ['--config', config, '--host', '127.0.0.1', '--port', String(flagPort), '--max-queued', '4'],
    { TROUPE_HOST: '127.0.0.2', TROUPE_PORT: String(envPort), TROUPE_MAX_QUEUED: '3' },
    { bind: false }
  )
  assert.is(cli.port, flagPort)
  assert.is(cli.host, '127.0.0.1')
  assert.is(await queuedForOfflineSession(cli), 4)
})

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  test(`${signal} with connected clients: exits 0 within a few seconds and the clients see the connection closed`, async () => {
    const cli = await startCliBroker(['start'])
    const raw = await RawClient.connect(cli.port)
    await raw.handshake({ clientId: 'raw-client' })
    const client = await connectClient(`mqtt://127.0.0.1:${cli.port}`, { clientId: 'mqttjs-client' })
    await client.subscribeAsync('some/topic', { qos: 1 })
    const clientClosed = new Promise<void>(resolve => client.once('close', () => resolve()))

    cli.process.kill(signal)
    const exit = await cli.process.waitForExit(5000)
    assert.equal(exit, { code: 0, signal: null }, cli.process.output())
    assert.ok(await raw.closesWithin(2000), 'the raw client saw the connection close')
    await clientClosed
    assert.is(cli.process.stderr, '', 'nothing on stderr')
    const messages = cli.logs().map(line => line.msg)
    assert.ok(cli.logs().some(line => line.msg === 'signal received' && line.signal === signal), `the signal is logged: ${messages.join(', ')}`)
    assert.ok(messages.includes('broker stopped'), `the shutdown completes: ${messages.join(', ')}`)
  })
}

test('a second broker on the same port exits non-zero saying the port is already in use', async () => {
  const first = await startCliBroker()
  const second = await runCli(['--host', '127.0.0.1', '--port', String(first.port)])
  assert.ok(second.code !== 0 && second.code !== null, `non-zero exit, was ${second.code ?? second.signal}`)
  const lines = stderrLines(second)
  assert.is(lines.length, 1, second.stderr)
  assert.ok(lines[0]!.includes('already in use') && lines[0]!.includes(String(first.port)), lines[0])
  // The first broker is untouched.
  const client = await connectClient(`mqtt://127.0.0.1:${first.port}`)
  assert.ok(client.connected)
  assert.ok(first.process.running)
})

test.run()
