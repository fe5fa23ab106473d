import { readFileSync } from 'node:fs'
import { get } from 'node:http'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import WebSocket from 'ws'
import { connectionRefusal } from '../helpers/connection-refusal.js'
import { closeListenerBrokers, RecordingAuthenticator, startListenerBroker } from '../helpers/listener-broker.js'
import { closeAllClients, collect, connectClient, eventually } from '../helpers/mqtt-clients.js'
import { killAll, startCliBroker } from '../helpers/processes.js'
import { CLIENT_CN, makeTestCertificates, type TestCertificates } from '../helpers/test-certificates.js'

/**
 * MQTT over WebSocket and secure WebSocket with real clients: MQTT.js in Node (ws:// and
 * wss://) next to plain TCP clients, and the `ws` package for what MQTT.js will not send.
 */

const test = suite<{ pki: TestCertificates }>('websocket listener')

test.before(context => { context.pki = makeTestCertificates() })
test.after(context => { context.pki.remove() })
test.after.each(async () => {
  await closeAllClients()
  await killAll()
  await closeListenerBrokers()
})

/** CONNECT, MQTT 3.1.1, clean session, keep-alive 60, client id "a": every byte below 0x80, so it can be sent as text too. */
const CONNECT = Buffer.from([0x10, 0x0d, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, 0x02, 0x00, 0x3c, 0x00, 0x01, 0x61])
const CONNACK_ACCEPTED = Buffer.from([0x20, 0x02, 0x00, 0x00])

async function opened (url: string, protocols: string[]): Promise<WebSocket> {
  const socket = new WebSocket(url, protocols)
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve())
    socket.once('error', reject)
  })
  return socket
}

/** The HTTP status a WebSocket handshake was refused with, or "open" when it succeeded. */
async function handshakeStatus (url: string, protocols: string[]): Promise<number | 'open'> {
  const socket = new WebSocket(url, protocols)
  return await new Promise(resolve => {
    socket.once('open', () => { socket.terminate(); resolve('open') })
    socket.once('unexpected-response', (_request, response) => { resolve(response.statusCode ?? 0); socket.terminate() })
    socket.once('error', () => resolve(0))
  })
}

async function httpStatus (url: string): Promise<number> {
  return await new Promise((resolve, reject) => {
    get(url, response => { response.resume(); resolve(response.statusCode ?? 0) }).once('error', reject)
  })
}

/** Everything a raw WebSocket client receives until the broker closes it (or `ms` pass). */
async function receivedUntilClose (socket: WebSocket, ms = 3000): Promise<{ data: Buffer, closed: boolean }> {
  const chunks: Buffer[] = []
  socket.on('message', data => chunks.push(data as Buffer))
  const closed = await new Promise<boolean>(resolve => {
    const timer = setTimeout(() => resolve(false), ms)
    socket.once('close', () => { clearTimeout(timer); resolve(true) })
  })
  socket.terminate()
  return { data: Buffer.concat(chunks), closed }
}

test('MQTT.js over ws:// publishes to a TCP subscriber, and a TCP publisher reaches a WebSocket subscriber', async () => {
  const broker = await startListenerBroker({ wsPort: 0 })
  const ws = `ws://127.0.0.1:${broker.port('ws')}/mqtt`
  const tcp = `mqtt://127.0.0.1:${broker.port('tcp')}`
  const wsSubscriber = await connectClient(ws, { protocolVersion: 5 })
  const tcpSubscriber = await connectClient(tcp)
  const overWs = collect(wsSubscriber)
  const overTcp = collect(tcpSubscriber)
  await wsSubscriber.subscribeAsync('from/tcp', { qos: 2 })
  await tcpSubscriber.subscribeAsync('from/ws', { qos: 1 })
  const wsPublisher = await connectClient(ws)
  const tcpPublisher = await connectClient(tcp)
  await wsPublisher.publishAsync('from/ws', 'hello from a browser-like client', { qos: 1 })
  await tcpPublisher.publishAsync('from/tcp', Buffer.alloc(200_000, 7), { qos: 2 })
  await eventually(() => overTcp.length === 1 && overWs.length === 1, 'both messages')
  assert.is(overTcp[0]!.payload, 'hello from a browser-like client')
  assert.is(overWs[0]!.packet.payload.length, 200_000, 'a large message crosses the WebSocket whole')
  const listening = broker.logs.filter(line => line.msg === 'broker listening')
  assert.equal(listening.map(line => [line.type, line.path]), [['tcp', undefined], ['ws', '/mqtt']])
})

test('the subprotocol: mqtt and mqttv3.1 are taken, none offered is let in, another one is refused', async () => {
  const broker = await startListenerBroker({ wsPort: 0 })
  const url = `ws://127.0.0.1:${broker.port('ws')}/mqtt`
  const mqtt = await opened(url, ['mqtt'])
  assert.is(mqtt.protocol, 'mqtt')
  mqtt.terminate()
  const v31 = await opened(url, ['mqttv3.1'])
  assert.is(v31.protocol, 'mqttv3.1')
  v31.terminate()
  const preferred = await opened(url, ['chat', 'mqtt'])
  assert.is(preferred.protocol, 'mqtt')
  preferred.terminate()
  const none = await opened(url, [])
  none.send(CONNECT)
  const { data } = await receivedUntilClose(none, 500)
  assert.equal([...data.subarray(0, 4)], [...CONNACK_ACCEPTED], 'a client without a subprotocol still speaks MQTT')
  assert.is(await handshakeStatus(url, ['chat']), 400)
})

test('a wrong path is refused: WebSocket upgrade and MQTT.js get 404; plain HTTP gets 404 elsewhere and 426 on the path', async () => {
  const broker = await startListenerBroker({ wsPort: 0 })
  const port = broker.port('ws')
  assert.is(await handshakeStatus(`ws://127.0.0.1:${port}/other`, ['mqtt']), 404)
  assert.is(await handshakeStatus(`ws://127.0.0.1:${port}/`, ['mqtt']), 404)
  await connectionRefusal(`ws://127.0.0.1:${port}/wrong`)
  assert.is(await httpStatus(`http://127.0.0.1:${port}/mqtt`), 426)
  assert.is(await httpStatus(`http://127.0.0.1:${port}/index.html`), 404)
  assert.ok(broker.logs.some(line => line.msg === 'client refused by the listener' && String(line.reason).includes('/other')), 'the wrong path is logged')
  assert.is(broker.logs.filter(line => line.msg === 'client connected').length, 0)
})

test('MQTT goes in binary frames: CONNECT as binary gets CONNACK, the same bytes as a text frame close the connection', async () => {
  const broker = await startListenerBroker({ wsPort: 0 })
  const url = `ws://127.0.0.1:${broker.port('ws')}/mqtt`
  const binary = await opened(url, ['mqtt'])
  binary.send(CONNECT)
  const accepted = await receivedUntilClose(binary, 500)
  assert.equal([...accepted.data], [...CONNACK_ACCEPTED])
  const text = await opened(url, ['mqtt'])
  text.send(CONNECT.toString('latin1'))
  const refused = await receivedUntilClose(text)
  assert.ok(refused.closed, 'the broker closed the connection')
  assert.is(refused.data.length, 0, 'and sent no CONNACK')
  assert.is(broker.logs.filter(line => line.msg === 'client connected').length, 1)
})

test('MQTT.js over wss:// trusting the test CA, with a TCP client on the other side', async ({ pki }) => {
  const broker = await startListenerBroker({ wssPort: 0, tlsCert: pki.serverCert, tlsKey: pki.serverKey })
  const wss = `wss://127.0.0.1:${broker.port('wss')}/mqtt`
  const subscriber = await connectClient(wss, { ca: readFileSync(pki.ca), rejectUnauthorized: true })
  const received = collect(subscriber)
  await subscriber.subscribeAsync('secure/#', { qos: 1 })
  const publisher = await connectClient(`mqtt://127.0.0.1:${broker.port('tcp')}`)
  await publisher.publishAsync('secure/ws', 'over wss', { qos: 1 })
  await eventually(() => received.length === 1, 'the message over wss')
  assert.is(received[0]!.payload, 'over wss')
  assert.match(await connectionRefusal(wss, { rejectUnauthorized: true }), /self[- ]signed|unable to (get|verify)|certificate/i)
})

test('wss with requireCertificate and useIdentityAsUsername: the certificate CN is the username', async ({ pki }) => {
  const authenticator = new RecordingAuthenticator()
  const broker = await startListenerBroker({
    listeners: [{ type: 'wss', port: 0, cert: pki.serverCert, key: pki.serverKey, ca: pki.ca, requireCertificate: true, useIdentityAsUsername: true }]
  }, authenticator)
  const wss = `wss://127.0.0.1:${broker.port('wss')}/mqtt`
  await connectClient(wss, { ca: readFileSync(pki.ca), cert: readFileSync(pki.clientCert), key: readFileSync(pki.clientKey), clientId: 'with-cert', username: 'bob' })
  assert.is(authenticator.usernameOf('with-cert'), CLIENT_CN)
  await connectionRefusal(wss, { ca: readFileSync(pki.ca), clientId: 'without-cert' })
  assert.is(authenticator.usernameOf('without-cert'), undefined)
})

test('the CLI: --ws-port with --ws-path serves MQTT on that path and logs it', async () => {
  const cli = await startCliBroker(['--ws-port', '0', '--ws-path', '/broker/mqtt'])
  const ws = await cli.process.waitFor(() => cli.logs().find(line => line.msg === 'broker listening' && line.type === 'ws'), 'the ws listener line')
  assert.is(ws.path, '/broker/mqtt')
  const client = await connectClient(`ws://127.0.0.1:${String(ws.port)}/broker/mqtt`)
  await client.publishAsync('cli/ws', 'x', { qos: 1 })
  assert.is(await handshakeStatus(`ws://127.0.0.1:${String(ws.port)}/mqtt`, ['mqtt']), 404)
})

test.run()
