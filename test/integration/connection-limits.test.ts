import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { connectionRefusal } from '../helpers/connection-refusal.js'
import { connectClient, eventually } from '../helpers/mqtt-clients.js'
import { rawV5 } from '../helpers/mqtt5-clients.js'
import { RawClient } from '../helpers/raw-client.js'
import { assertStillServing } from '../helpers/still-serving.js'
import { startBroker, type TestBroker } from '../helpers/test-broker.js'
import { closeTestClients } from '../helpers/broker-per-test.js'

/**
 * max-connections, max-connections-per-address and max-connection-rate, with real clients over
 * real sockets. A refused client is told why in CONNACK (MQTT 5 reason code, MQTT 3 return
 * code 3 Server unavailable) and closed [MQTT-3.2.2-7 (v5)][MQTT-3.2.2-5]; the clients already
 * in are not disturbed. Another client host is played by connecting from 127.0.0.2.
 */
const test = suite<{ broker?: TestBroker }>('connection limits')

test.after.each(async context => {
  await closeTestClients()
  await context.broker?.close()
})

/** CONNECT at protocol level 4 and the CONNACK's return code; the broker must close afterwards. */
async function v3Refusal (broker: TestBroker, localAddress?: string): Promise<number> {
  const client = await RawClient.connect(broker.port, 4, localAddress)
  const connack = await client.handshake({ clientId: 'v3-refused' })
  assert.ok(await client.closesWithin(5000), 'the broker closes the refused connection [MQTT-3.2.2-5]')
  return connack.returnCode!
}

/** CONNECT at protocol level 5 and the CONNACK's reason code; the broker must close afterwards. */
async function v5Refusal (broker: TestBroker): Promise<number> {
  const { client, connack } = await rawV5(broker, { clientId: 'v5-refused' })
  assert.is(connack.sessionPresent, false, 'a refusal has Session Present 0 [MQTT-3.2.2-6 (v5)]')
  assert.ok(await client.closesWithin(5000), 'the broker closes the refused connection [MQTT-3.2.2-7 (v5)]')
  return connack.reasonCode!
}

test('[MQTT-3.2.2-7] max-connections: beyond it MQTT 5 gets CONNACK 0x89 Server busy, MQTT 3.1.1 return code 3; those in keep working and a freed place is taken', async context => {
  const broker = context.broker = await startBroker({ maxConnections: 2 })
  const first = await connectClient(broker.url, { clientId: 'first' })
  const second = await connectClient(broker.url, { clientId: 'second' })

  assert.is(await v5Refusal(broker), 0x89)
  assert.is(await v3Refusal(broker), 3)
  assert.match(await connectionRefusal(broker.url, { protocolVersion: 5 }), 'Server busy', 'MQTT.js v5 learns why')
  assert.match(await connectionRefusal(broker.url), 'Server unavailable', 'MQTT.js 3.1.1 learns return code 3')
  assert.is(broker.broker.counters.limited['max-connections'], 4)
  const logged = broker.logs.find(line => line.limit === 'max-connections')
  assert.ok(logged !== undefined && logged.address === '127.0.0.1', 'the refusal is logged with the client address')

  // The two inside are undisturbed.
  await second.subscribeAsync('inside', { qos: 1 })
  const arrived = new Promise(resolve => second.once('message', resolve))
  await first.publishAsync('inside', 'still here', { qos: 1 })
  await arrived

  // A place freed (once its socket closed) is a place for the next client.
  await first.endAsync()
  await eventually(() => broker.broker.admission.connections === 1, 'the first connection to be released')
  const third = await connectClient(broker.url, { clientId: 'third' })
  assert.ok(third.connected)
})

test('max-connections-per-address: the address at its limit gets 0x97 Quota exceeded (MQTT 3: return code 3), another address still gets in', async context => {
  const broker = context.broker = await startBroker({ maxConnectionsPerAddress: 2 })
  await connectClient(broker.url, { clientId: 'a1' })
  await connectClient(broker.url, { clientId: 'a2' })

  assert.is(await v5Refusal(broker), 0x97)
  assert.is(await v3Refusal(broker), 3)
  assert.match(await connectionRefusal(broker.url, { protocolVersion: 5 }), 'Quota exceeded')
  assert.ok(broker.broker.counters.limited['max-connections-per-address'] >= 3)

  const elsewhere = await RawClient.connect(broker.port, 4, '127.0.0.2')
  const connack = await elsewhere.handshake({ clientId: 'from-another-host' })
  assert.is(connack.returnCode, 0, 'a client from another address is let in')
  assert.ok(broker.logs.some(line => line.limit === 'max-connections-per-address' && line.address === '127.0.0.1'), 'the log names the address at its limit')
})

test('max-connection-rate: an address opening connections faster gets 0x9F Connection rate exceeded (MQTT 3: 3); another address is not slowed; later it gets in again', async context => {
  const broker = context.broker = await startBroker({ maxConnectionRate: 2 })
  // Twelve at once from one address: a budget of 2 a second (burst 2) lets only a few in.
  const attempts = await Promise.all(Array.from({ length: 6 }, async (_, index) => {
    const { connack } = await rawV5(broker, { clientId: `v5-${index}` })
    return connack.reasonCode
  }).concat(Array.from({ length: 6 }, async (_, index) => {
    const client = await RawClient.connect(broker.port)
    return (await client.handshake({ clientId: `v3-${index}` })).returnCode
  })))
  const v5 = attempts.slice(0, 6)
  const v3 = attempts.slice(6)
  assert.ok(v5.includes(0x9f) || v3.includes(3), `some attempts were refused (got ${attempts.join(', ')})`)
  assert.ok(v5.every(code => code === 0 || code === 0x9f), `MQTT 5 refusals are 0x9F (got ${v5.join(', ')})`)
  assert.ok(v3.every(code => code === 0 || code === 3), `MQTT 3 refusals are 3 (got ${v3.join(', ')})`)
  const refused = attempts.filter(code => code !== 0).length
  assert.is(broker.broker.counters.limited['max-connection-rate'], refused, 'each refusal is counted')

  const elsewhere = await RawClient.connect(broker.port, 4, '127.0.0.2')
  assert.is((await elsewhere.handshake({ clientId: 'other-host' })).returnCode, 0, 'another address has a budget of its own')

  // The budget refills: the same address gets in again.
  const deadline = Date.now() + 10_000
  for (;;) {
    const retry = await RawClient.connect(broker.port)
    const code = (await retry.handshake({ clientId: 'patient' })).returnCode
    if (code === 0) break
    assert.ok(Date.now() < deadline, 'the address gets in again within 10 s')
    await new Promise(resolve => setTimeout(resolve, 200))
  }
})

test('a refused socket that never sends CONNECT is closed long before connect-timeout, and past the refusal backlog new sockets are closed unanswered', async context => {
  const broker = context.broker = await startBroker({ maxConnectionsPerAddress: 1, connectTimeout: 120 })
  await connectClient(broker.url, { clientId: 'holder' })
  // Up to 10 refused sockets of one address are kept to be answered; these never send CONNECT.
  const silent = await Promise.all(Array.from({ length: 10 }, async () => await RawClient.connect(broker.port)))
  await eventually(() => broker.broker.counters.limited['max-connections-per-address'] === 10, 'the ten refusals')
  // The eleventh is beyond the backlog: destroyed at accept, its CONNECT never answered.
  const beyond = await RawClient.connect(broker.port)
  beyond.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId: 'beyond', keepalive: 60 })
  assert.ok(await beyond.closesWithin(5000), 'closed at once')
  assert.is(beyond.received.length, 0, 'without a CONNACK')
  assert.is(broker.broker.counters.limited['max-connections-per-address'], 11)
  // The silent ones do not hold their sockets for the 120 s connect timeout.
  for (const socket of silent) assert.ok(await socket.closesWithin(15_000), 'a silent refused socket is closed after a short grace')
  await eventually(() => broker.broker.admission.connections === 1, 'only the holder counted')
  await assertStillServingFrom(broker)
})

test('connections refused at accept are logged a few lines at most, not one per socket', async context => {
  const broker = context.broker = await startBroker({ maxConnections: 1 })
  await connectClient(broker.url, { clientId: 'only' })
  for (let index = 0; index < 20; index++) assert.is(await v3Refusal(broker), 3)
  assert.is(broker.broker.counters.limited['max-connections'], 20)
  const lines = broker.logs.filter(line => line.limit === 'max-connections')
  assert.is(lines.length, 1, `one line for 20 refusals in a burst (got ${lines.length})`)
  assert.is(broker.broker.counters.connectionsRefused, 20)
})

/** With one place per address taken by the holder, the broker still serves a client of another address. */
async function assertStillServingFrom (broker: TestBroker): Promise<void> {
  const other = await RawClient.connect(broker.port, 4, '127.0.0.3')
  assert.is((await other.handshake({ clientId: 'other-address' })).returnCode, 0)
  other.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'check', qos: 1 }] })
  await other.next('suback')
  other.send({ cmd: 'publish', topic: 'check', payload: Buffer.from('served'), qos: 1, messageId: 2, retain: false, dup: false })
  const publish = await other.next('publish')
  assert.is(publish.payload.toString(), 'served')
}

test('behind a load balancer with proxy-protocol on, max-connections-per-address counts the address of the PROXY header, not the balancer\'s', async context => {
  const broker = context.broker = await startBroker({ proxyProtocol: true, maxConnectionsPerAddress: 1 })
  /** A client behind the balancer: a PROXY v1 header naming `source`, then CONNECT. */
  const behindBalancer = async (source: string, clientId: string): Promise<number> => {
    const client = await RawClient.connect(broker.port)
    client.sendBytes(Buffer.from(`PROXY TCP4 ${source} 127.0.0.1 40000 1883\r\n`))
    return (await client.handshake({ clientId })).returnCode!
  }
  assert.is(await behindBalancer('203.0.113.5', 'first'), 0)
  assert.is(await behindBalancer('203.0.113.5', 'second'), 3, 'the same client address is at its limit')
  assert.is(await behindBalancer('203.0.113.6', 'third'), 0, 'another client address behind the same balancer gets in')
  assert.ok(broker.logs.some(line => line.limit === 'max-connections-per-address' && line.address === '203.0.113.5'), 'the log names the client address')
})

test('no limits by default: many connections from one address are all let in', async context => {
  const broker = context.broker = await startBroker()
  await Promise.all(Array.from({ length: 30 }, async (_, index) => await connectClient(broker.url, { clientId: `many-${index}` })))
  assert.is(broker.broker.admission.connections, 30)
  assert.is(Object.values(broker.broker.counters.limited).reduce((sum, count) => sum + count, 0), 0)
  await assertStillServing(broker)
})

test.run()
