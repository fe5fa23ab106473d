import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { connect, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MqttClient, type IClientOptions } from 'mqtt'
import mqttPacket from 'mqtt-packet'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { connectionRefusal } from '../helpers/connection-refusal.js'
import { closeListenerBrokers, startListenerBroker, type ListenerBroker } from '../helpers/listener-broker.js'
import { closeAllClients, collect, connectClient, eventually } from '../helpers/mqtt-clients.js'
import { killAll, startCliBroker, type CliBroker } from '../helpers/processes.js'
import { RawClient } from '../helpers/raw-client.js'
import type { LogLine } from '../helpers/test-broker.js'

/**
 * A TCP listener with the PROXY protocol on, in a real broker: clients that send a header
 * (as a load balancer does) are known by its address; anything else is refused and logged,
 * and the broker goes on serving. Then the same through the real command line.
 */

const test = suite<{ dir: string }>('PROXY protocol listener')

test.before(context => { context.dir = mkdtempSync(join(tmpdir(), 'troupe-proxy-protocol-')) })
test.after(context => { rmSync(context.dir, { recursive: true, force: true }) })

const headerClients = new Set<MqttClient>()
test.after.each(async () => {
  RawClient.closeAll()
  await Promise.all([...headerClients].map(async client => await client.endAsync(true).catch(() => undefined)))
  headerClients.clear()
  await closeAllClients()
  await closeListenerBrokers()
  await killAll()
})

const SIGNATURE = Buffer.from('0d0a0d0a000d0a515549540a', 'hex')

/** A v2 PROXY header for an IPv4 client, as `send-proxy-v2` writes it (with an empty NOOP TLV). */
function v2Ipv4 (source: string, sourcePort: number): Buffer {
  const block = Buffer.alloc(12 + 3)
  source.split('.').forEach((octet, index) => block.writeUInt8(Number(octet), index))
  block.set([127, 0, 0, 1], 4)
  block.writeUInt16BE(sourcePort, 8)
  block.writeUInt16BE(1883, 10)
  block.writeUInt8(0x04, 12)
  return Buffer.concat([SIGNATURE, Buffer.from([0x21, 0x11, 0, block.length]), block])
}

/** A v2 LOCAL header: what a balancer sends for its own health checks. */
const V2_LOCAL = Buffer.concat([SIGNATURE, Buffer.from([0x20, 0x00, 0, 0])])

/**
 * MQTT.js over a socket that first sends `header`, as a load balancer does before the client's
 * bytes; resolves after CONNACK, with the socket's own local address for comparison.
 */
async function connectWithHeader (port: number, header: Buffer, options: IClientOptions = {}): Promise<{ client: MqttClient, socket: Socket }> {
  const socket = connect({ host: '127.0.0.1', port })
  socket.write(header)
  const client = new MqttClient(() => socket, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5000, ...options })
  headerClients.add(client)
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve())
    client.once('error', reject)
    client.once('close', () => reject(new Error('the broker closed the connection before CONNACK')))
  })
  return { client, socket }
}

function connectPacket (clientId: string): Buffer {
  return mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId, keepalive: 60 })
}

function connectedLine (logs: ReadonlyArray<Record<string, unknown>>, clientId: string): Record<string, unknown> | undefined {
  return logs.find(line => line.msg === 'client connected' && line.clientId === clientId)
}

async function refusals (broker: ListenerBroker, count: number): Promise<LogLine[]> {
  const lines = (): LogLine[] => broker.logs.filter(line => line.msg === 'client refused by the listener')
  await eventually(() => lines().length >= count, `${count} "client refused by the listener" lines`)
  return lines()
}

/** A QoS 1 round trip between two clients that send a header: the broker still serves. */
async function assertServesProxiedClients (port: number): Promise<void> {
  const { client: subscriber } = await connectWithHeader(port, v2Ipv4('192.0.2.1', 1001))
  await subscriber.subscribeAsync('proxied/check', { qos: 1 })
  const received = collect(subscriber)
  const { client: publisher } = await connectWithHeader(port, Buffer.from('PROXY TCP4 192.0.2.2 127.0.0.1 1002 1883\r\n'))
  await publisher.publishAsync('proxied/check', 'still serving', { qos: 1 })
  await eventually(() => received.length === 1, 'a message between two proxied clients')
}

test('a plain MQTT client without a header is refused and logged with the reason; clients with a header are still served', async () => {
  const broker = await startListenerBroker({ proxyProtocol: true })
  const ending = await connectionRefusal(`mqtt://127.0.0.1:${broker.port('tcp')}`)
  assert.ok(ending.length > 0)
  const [refused] = await refusals(broker, 1)
  assert.match(String(refused!.address), /^127\.0\.0\.1:\d+$/)
  assert.match(String(refused!.reason), /did not start with a PROXY protocol header/)
  assert.is(refused!.listener, 'tcp')
  assert.not.ok(broker.logs.some(line => line.msg === 'client connected'), 'the plain client never got in')
  await assertServesProxiedClients(broker.port('tcp'))
})

test('the header and the CONNECT in one write: the bytes after the header reach MQTT untouched, and the client is known by the header\'s address', async () => {
  const broker = await startListenerBroker({ proxyProtocol: true })
  const v1 = await RawClient.connect(broker.port('tcp'))
  v1.sendBytes(Buffer.concat([Buffer.from('PROXY TCP6 2001:DB8::7 ::1 40000 1883\r\n'), connectPacket('one-write-v1')]))
  assert.is((await v1.next('connack')).returnCode, 0)
  const v2 = await RawClient.connect(broker.port('tcp'))
  v2.sendBytes(Buffer.concat([v2Ipv4('203.0.113.7', 40001), connectPacket('one-write-v2')]))
  assert.is((await v2.next('connack')).returnCode, 0)
  assert.is(connectedLine(broker.logs, 'one-write-v1')?.address, '2001:db8::7:40000')
  assert.is(connectedLine(broker.logs, 'one-write-v2')?.address, '203.0.113.7:40001')
})

test('v2 LOCAL (a balancer\'s health check) and v1 UNKNOWN: the connection\'s own address is the client\'s', async () => {
  const broker = await startListenerBroker({ proxyProtocol: true })
  for (const [clientId, header] of [['local-v2', V2_LOCAL], ['unknown-v1', Buffer.from('PROXY UNKNOWN\r\n')]] as const) {
    const { socket } = await connectWithHeader(broker.port('tcp'), header, { clientId })
    assert.is(connectedLine(broker.logs, clientId)?.address, `127.0.0.1:${socket.localPort!}`)
  }
})

/** Headers a client might forge or break, and a word of the logged reason. */
const BAD_HEADERS: Array<[string, Buffer, string]> = [
  ['v1 with an address that is no IPv4 address', Buffer.from('PROXY TCP4 999.1.1.1 127.0.0.1 1 1883\r\n'), 'not IPv4'],
  ['v1 longer than 107 bytes', Buffer.from(`PROXY TCP4 ${'9'.repeat(300)}\r\n`), '107'],
  ['v1 ending in LF alone', Buffer.from('PROXY TCP4 1.2.3.4 127.0.0.1 1 1883\n'), 'CRLF'],
  ['v2 of an unknown version', Buffer.concat([SIGNATURE, Buffer.from([0x31, 0x11, 0, 12]), Buffer.alloc(12)]), 'version 3'],
  ['v2 too short for its addresses', Buffer.concat([SIGNATURE, Buffer.from([0x21, 0x21, 0, 12]), Buffer.alloc(12)]), 'too short'],
  ['HTTP', Buffer.from('GET /mqtt HTTP/1.1\r\nHost: x\r\n\r\n'), 'did not start with a PROXY protocol header']
]

test('malformed and oversized headers are refused and logged, each with its reason; the broker keeps serving', async () => {
  const broker = await startListenerBroker({ proxyProtocol: true })
  for (const [index, [name, header, reason]] of BAD_HEADERS.entries()) {
    const raw = await RawClient.connect(broker.port('tcp'))
    raw.sendBytes(Buffer.concat([header, connectPacket(`bad-${index}`)]))
    assert.ok(await raw.closesWithin(5000), `${name}: the connection is closed`)
    const refused = await refusals(broker, index + 1)
    assert.ok(String(refused[index]!.reason).includes(reason), `${name}: "${reason}" in ${String(refused[index]!.reason)}`)
  }
  assert.not.ok(broker.logs.some(line => line.msg === 'client connected'), 'no bad header let a client in')
  await assertServesProxiedClients(broker.port('tcp'))
})

test('slowloris: a header not complete within the connect timeout, or no byte at all, is refused and logged', async () => {
  const broker = await startListenerBroker({ proxyProtocol: true, connectTimeout: 1 })
  const partial = await RawClient.connect(broker.port('tcp'))
  partial.sendBytes(Buffer.from('PROXY TCP4 10.0.0.'))
  const silent = await RawClient.connect(broker.port('tcp'))
  assert.ok(await partial.closesWithin(10_000), 'the partial header is cut off')
  assert.ok(await silent.closesWithin(10_000), 'the silent connection is cut off')
  const refused = await refusals(broker, 2)
  for (const line of refused) assert.match(String(line.reason), /no complete PROXY protocol header within 1 s/)
  await assertServesProxiedClients(broker.port('tcp'))
})

test('closing the broker closes connections still sending their header', async () => {
  const broker = await startListenerBroker({ proxyProtocol: true, connectTimeout: 3600 })
  const partial = await RawClient.connect(broker.port('tcp'))
  partial.sendBytes(Buffer.from('PROXY TCP4 10.0.0.'))
  // Gives the listener time to accept the socket and read the partial header: nothing to wait on shows it.
  await new Promise(resolve => setTimeout(resolve, 200))
  const closed = broker.close()
  assert.ok(await partial.closesWithin(5000), 'the waiting connection is closed')
  await Promise.race([closed, new Promise((_resolve, reject) => setTimeout(() => reject(new Error('the broker did not close')), 10_000))])
})

/** The listening lines of a CLI broker, once there are `count`. */
async function listening (cli: CliBroker, count: number): Promise<Array<Record<string, unknown>>> {
  return await cli.process.waitFor(() => {
    const lines = cli.logs().filter(line => line.msg === 'broker listening')
    return lines.length === count ? lines : undefined
  }, `${count} "broker listening" lines`)
}

test('CLI: --proxy-protocol true puts the --port listener behind the balancer: header clients known by its address, plain ones refused', async () => {
  const cli = await startCliBroker(['--proxy-protocol', 'true'])
  await connectWithHeader(cli.port, Buffer.from('PROXY TCP4 198.51.100.9 127.0.0.1 1234 1883\r\n'), { clientId: 'cli-proxied' })
  const connected = await cli.process.waitFor(() => connectedLine(cli.logs(), 'cli-proxied'), 'the "client connected" line')
  assert.is(connected.address, '198.51.100.9:1234')
  await connectionRefusal(`mqtt://127.0.0.1:${cli.port}`)
  const refused = await cli.process.waitFor(() => cli.logs().find(line => line.msg === 'client refused by the listener'), 'the refusal line')
  assert.match(String(refused.reason), /PROXY protocol/)
})

test('CLI: a YAML listeners entry {type: tcp, port: 0, proxyProtocol: true} is behind the balancer, the --port listener is not', async ({ dir }) => {
  const file = join(dir, 'proxy.yaml')
  writeFileSync(file, 'listeners:\n  - { type: tcp, port: 0, proxyProtocol: true }\n')
  const cli = await startCliBroker(['--config', file])
  const [main, proxied] = await listening(cli, 2)
  assert.equal([main!.type, proxied!.type], ['tcp', 'tcp'])
  await connectWithHeader(Number(proxied!.port), v2Ipv4('198.51.100.10', 4321), { clientId: 'yaml-proxied' })
  await connectClient(`mqtt://127.0.0.1:${Number(main!.port)}`, { clientId: 'yaml-direct' })
  const proxiedLine = await cli.process.waitFor(() => connectedLine(cli.logs(), 'yaml-proxied'), 'the proxied client\'s line')
  assert.is(proxiedLine.address, '198.51.100.10:4321')
  const directLine = await cli.process.waitFor(() => connectedLine(cli.logs(), 'yaml-direct'), 'the direct client\'s line')
  assert.match(String(directLine.address), /^127\.0\.0\.1:\d+$/)
  await connectionRefusal(`mqtt://127.0.0.1:${Number(proxied!.port)}`)
  await cli.process.waitFor(() => cli.logs().find(line => line.msg === 'client refused by the listener'), 'the refusal line')
})

test.run()
