import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { closeAllClients, collect, connectClient, eventually } from '../helpers/mqtt-clients.js'
import { killAll, runCli, startCliBroker, type RunResult } from '../helpers/processes.js'
import { makeTestCertificates, type TestCertificates } from '../helpers/test-certificates.js'

/** Listeners through the real command line (dist/runtime/cli.js): flags, the YAML list, and bad files. */

const test = suite<{ pki: TestCertificates }>('cli: listeners')

test.before(context => { context.pki = makeTestCertificates() })
test.after(context => { context.pki.remove() })
test.after.each(async () => {
  await closeAllClients()
  await killAll()
})

function stderrLines (result: RunResult): string[] {
  return result.stderr.split('\n').filter(line => line.trim().length > 0)
}

test('tcp, tls, ws and wss from flags: each logged as "broker listening" with its type, all serving', async ({ pki }) => {
  const cli = await startCliBroker(['--tls-port', '0', '--ws-port', '0', '--wss-port', '0', '--tls-cert', pki.serverCert, '--tls-key', pki.serverKey])
  const listening = await cli.process.waitFor(() => {
    const lines = cli.logs().filter(line => line.msg === 'broker listening')
    return lines.length === 4 ? lines : undefined
  }, 'four listening lines')
  assert.equal(listening.map(line => line.type), ['tcp', 'tls', 'ws', 'wss'])
  const port = (type: string): number => Number(listening.find(line => line.type === type)!.port)
  const ca = readFileSync(pki.ca)
  const subscriber = await connectClient(`mqtt://127.0.0.1:${port('tcp')}`)
  const received = collect(subscriber)
  await subscriber.subscribeAsync('cli/#', { qos: 1 })
  const publishers = await Promise.all([
    connectClient(`mqtts://127.0.0.1:${port('tls')}`, { ca }),
    connectClient(`ws://127.0.0.1:${port('ws')}/mqtt`),
    connectClient(`wss://127.0.0.1:${port('wss')}/mqtt`, { ca })
  ])
  for (const [index, publisher] of publishers.entries()) await publisher.publishAsync(`cli/${index}`, 'x', { qos: 1 })
  await eventually(() => received.length === 3, 'a message from each listener')
})

test('a certificate file that cannot be read: exit 2, one line naming the listener and the file', async ({ pki }) => {
  const missing = join(pki.dir, 'nope.pem')
  const result = await runCli(['--port', '0', '--tls-port', '0', '--tls-cert', missing, '--tls-key', pki.serverKey])
  assert.is(result.code, 2, `${result.stdout}${result.stderr}`)
  const lines = stderrLines(result)
  assert.is(lines.length, 1, result.stderr)
  for (const text of ['tls listener (--tls-port)', missing, 'ENOENT']) assert.ok(lines[0]!.includes(text), `"${text}" in ${lines[0]}`)
  assert.not.match(result.stdout, /broker listening/)
})

test('a listeners entry with an unreadable key or a key of another certificate: exit 2 naming the entry', async ({ pki }) => {
  const config = join(pki.dir, 'listeners.yaml')
  writeFileSync(config, `port: 0\nhost: 127.0.0.1\nlisteners:\n  - { type: wss, port: 0, cert: ${pki.serverCert}, key: ${pki.dir} }\n`)
  const unreadable = await runCli(['--config', config])
  assert.is(unreadable.code, 2, unreadable.stderr)
  assert.ok(stderrLines(unreadable).length === 1 && unreadable.stderr.includes('listeners[0] (wss)') && unreadable.stderr.includes(pki.dir), unreadable.stderr)
  const mismatch = await runCli(['--port', '0', '--listeners', `[{type: tls, port: 0, cert: ${pki.serverCert}, key: ${pki.clientKey}}]`])
  assert.is(mismatch.code, 2, mismatch.stderr)
  assert.ok(stderrLines(mismatch).length === 1 && mismatch.stderr.includes('listeners[0] (tls)') && mismatch.stderr.includes('TLS settings do not work'), mismatch.stderr)
})

test('--tls-port without --tls-cert: exit 2 with one line saying what is missing', async () => {
  const result = await runCli(['--tls-port', '8883'])
  assert.is(result.code, 2)
  const lines = stderrLines(result)
  assert.is(lines.length, 1, result.stderr)
  assert.ok(lines[0]!.includes('--tls-port') && lines[0]!.includes('tls-cert and tls-key'), lines[0])
})

test('a second listener whose port is taken: exit 1, the message names that listener', async () => {
  const first = await startCliBroker(['--ws-port', '0'])
  const ws = await first.process.waitFor(() => first.logs().find(line => line.msg === 'broker listening' && line.type === 'ws'), 'the ws line')
  const second = await runCli(['--host', '127.0.0.1', '--port', '0', '--ws-port', String(ws.port)])
  assert.is(second.code, 1)
  const lines = stderrLines(second)
  assert.ok(lines[0]!.includes('ws listener (--ws-port)') && lines[0]!.includes('already in use') && lines[0]!.includes(String(ws.port)), lines[0])
})

test.run()
