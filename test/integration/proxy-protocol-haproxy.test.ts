import { writeFileSync, mkdtempSync, rmSync } from 'node:fs'
import { connect, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { freePorts } from '../helpers/free-ports.js'
import { closeListenerBrokers, RecordingAuthenticator, startListenerBroker, type ListenerBroker } from '../helpers/listener-broker.js'
import { closeAllClients, collect, connectClient, eventually } from '../helpers/mqtt-clients.js'
import { killAll, run, spawnTracked, type TrackedProcess } from '../helpers/processes.js'

/**
 * A real load balancer in front of the broker: HAProxy (Debian's haproxy package) relays
 * MQTT.js clients with `send-proxy` (PROXY protocol v1) and `send-proxy-v2`, and the broker
 * must name each client by the address HAProxy saw, not by HAProxy's own connection.
 */

interface Context {
  dir: string
  broker: ListenerBroker
  authenticator: RecordingAuthenticator
  haproxy: TrackedProcess
  /** HAProxy's frontend port per PROXY protocol version. */
  frontends: { v1: number, v2: number }
}

const test = suite<Context>('PROXY protocol behind HAProxy')

/** Resolves once something accepts TCP connections on 127.0.0.1:port; rejects after `timeoutMs`. */
async function waitForPort (port: number, process: TrackedProcess, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const open = await new Promise<boolean>(resolve => {
      const socket: Socket = connect({ host: '127.0.0.1', port })
      socket.once('connect', () => { socket.destroy(); resolve(true) })
      socket.once('error', () => resolve(false))
    })
    if (open) return
    if (!process.running || Date.now() > deadline) throw new Error(`HAProxy did not listen on ${port}\n${process.output()}`)
    await new Promise(resolve => setTimeout(resolve, 50))
  }
}

test.before(async context => {
  context.dir = mkdtempSync(join(tmpdir(), 'troupe-haproxy-'))
  context.authenticator = new RecordingAuthenticator()
  context.broker = await startListenerBroker({ proxyProtocol: true }, context.authenticator)
  const [v1, v2] = await freePorts(2)
  context.frontends = { v1: v1!, v2: v2! }
  const config = join(context.dir, 'haproxy.cfg')
  writeFileSync(config, [
    'global',
    '  maxconn 100',
    'defaults',
    '  mode tcp',
    '  timeout connect 5s',
    '  timeout client 60s',
    '  timeout server 60s',
    ...(['v1', 'v2'] as const).flatMap(version => [
      `frontend mqtt-${version}`,
      `  bind 127.0.0.1:${context.frontends[version]}`,
      `  default_backend troupe-${version}`,
      `backend troupe-${version}`,
      `  server troupe 127.0.0.1:${context.broker.port('tcp')} ${version === 'v1' ? 'send-proxy' : 'send-proxy-v2'}`
    ]),
    ''
  ].join('\n'))
  const check = await run('haproxy', ['-c', '-f', config], { timeoutMs: 10_000 }).catch((error: Error) => {
    throw new Error(`haproxy could not be run (.ci/run installs Debian's haproxy package): ${error.message}`)
  })
  assert.is(check.code, 0, check.stdout + check.stderr)
  // -db: in the foreground, not as a daemon, so that killing this child ends HAProxy.
  context.haproxy = spawnTracked('haproxy', ['-db', '-f', config])
  await waitForPort(context.frontends.v1, context.haproxy)
  await waitForPort(context.frontends.v2, context.haproxy)
})

test.after(async context => {
  await closeAllClients()
  await killAll()
  await closeListenerBrokers()
  rmSync(context.dir, { recursive: true, force: true })
})

for (const version of ['v1', 'v2'] as const) {
  test(`HAProxy ${version === 'v1' ? 'send-proxy (v1)' : 'send-proxy-v2'}: "client connected" and the authenticator name the client's own address and port`, async context => {
    const clientId = `via-haproxy-${version}`
    const client = await connectClient(`mqtt://127.0.0.1:${context.frontends[version]}`, { clientId })
    // HAProxy saw the client at this address; the broker's socket is HAProxy's own, from another port.
    const seenByHaproxy = `127.0.0.1:${(client.stream as Socket).localPort!}`
    const connected = context.broker.logs.find(line => line.msg === 'client connected' && line.clientId === clientId)
    assert.ok(connected !== undefined, 'a "client connected" line')
    assert.is(connected.address, seenByHaproxy)
    assert.is(context.authenticator.requests.find(request => request.clientId === clientId)?.remoteAddress, seenByHaproxy)
    assert.not.ok(context.broker.logs.some(line => line.msg === 'client refused by the listener'), 'no connection refused')
  })
}

test('MQTT flows both ways through both kinds of header: a message from a v1 client reaches a v2 subscriber', async context => {
  const subscriber = await connectClient(`mqtt://127.0.0.1:${context.frontends.v2}`, { clientId: 'haproxy-subscriber' })
  await subscriber.subscribeAsync('through/haproxy', { qos: 1 })
  const received = collect(subscriber)
  const publisher = await connectClient(`mqtt://127.0.0.1:${context.frontends.v1}`, { clientId: 'haproxy-publisher' })
  await publisher.publishAsync('through/haproxy', 'hello', { qos: 1 })
  await eventually(() => received.length === 1, 'the message through HAProxy')
  assert.is(received[0]!.payload, 'hello')
})

test.run()
