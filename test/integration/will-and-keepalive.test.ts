import type { Packet, QoS } from 'mqtt-packet'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { closeAllClients, collect, connectClient, eventually, quietFor, type Received } from '../helpers/mqtt-clients.js'
import { RawClient } from '../helpers/raw-client.js'
import { startBroker, type TestBroker } from '../helpers/test-broker.js'
import { V3_VERSIONS, type V3Version } from '../helpers/v3-versions.js'
import { assertStillServing } from '../helpers/still-serving.js'

/**
 * Wills, keep-alive, PINGREQ and DISCONNECT over real TCP (MQTT 3.1.1 sections 3.1.2.5-3.1.2.10,
 * 3.12-3.14): when a will is published and how, when a silent client is dropped, and that a
 * clean DISCONNECT leaves no will behind.
 */
const test = suite<{ broker: TestBroker }>('will-and-keepalive')

test.before.each(async context => { context.broker = await startBroker() })
test.after.each(async context => {
  RawClient.closeAll()
  await closeAllClients()
  await context.broker.close()
})

const VERSIONS = V3_VERSIONS
type Version = V3Version

interface WillFields {
  readonly topic: string
  readonly payload?: string
  readonly qos?: QoS
  readonly retain?: boolean
}

/** A RawClient connected as `clientId`, with a will when `will` is given. */
async function rawWithWill (broker: TestBroker, version: Version, clientId: string, will: WillFields | undefined, fields: Partial<Extract<Packet, { cmd: 'connect' }>> = {}): Promise<RawClient> {
  const client = await RawClient.connect(broker.port, version.level)
  const connack = await client.handshake({
    protocolId: version.protocolId,
    protocolVersion: version.level,
    clientId,
    clean: true,
    ...(will === undefined ? {} : { will: { topic: will.topic, payload: Buffer.from(will.payload ?? `${clientId} is gone`), qos: will.qos ?? 0, retain: will.retain ?? false } }),
    ...fields
  })
  assert.is(connack.returnCode, 0, `${clientId} is accepted`)
  return client
}

/** An MQTT.js client subscribed to `filter` at QoS 2, collecting what arrives. */
async function watch (broker: TestBroker, filter: string, options: { keepalive?: number } = {}): Promise<Received[]> {
  const watcher = await connectClient(broker.url, options)
  const received = collect(watcher)
  await watcher.subscribeAsync(filter, { qos: 2 })
  return received
}

async function restart (context: { broker: TestBroker }, overrides: Parameters<typeof startBroker>[0]): Promise<TestBroker> {
  await context.broker.close()
  context.broker = await startBroker(overrides)
  return context.broker
}

for (const version of VERSIONS) {
  const v = version.level

  test(`[MQTT-3.1.2-24][MQTT-3.1.2-8] ${version.label}: a client silent past 1.5 x keep-alive (1 s) is disconnected and its will is published`, async ({ broker }) => {
    const wills = await watch(broker, `wills/silent-${v}`)
    const silent = await rawWithWill(broker, version, `silent-${v}`, { topic: `wills/silent-${v}`, qos: 1 }, { keepalive: 1 })
    assert.ok(await silent.closesWithin(4000), 'closed within 4 s of silence')
    await eventually(() => wills.length === 1, 'the will')
    assert.is(wills[0]!.payload, `silent-${v} is gone`)
    assert.ok(broker.logs.some(line => line.clientId === `silent-${v}` && line.reason === 'keepalive-timeout'), 'the log says the keep-alive expired')
    await assertStillServing(broker)
  })

  test(`[MQTT-3.1.2-8][MQTT-3.1.2-10] ${version.label}: a socket closed without DISCONNECT gets its will published, once`, async ({ broker }) => {
    const wills = await watch(broker, `wills/dropped-${v}`)
    const dropped = await rawWithWill(broker, version, `dropped-${v}`, { topic: `wills/dropped-${v}`, payload: 'network failure', qos: 1 })
    dropped.end()
    await eventually(() => wills.length === 1, 'the will')
    assert.is(wills[0]!.payload, 'network failure')
    assert.is(wills[0]!.topic, `wills/dropped-${v}`)
    await quietFor(300)
    assert.is(wills.length, 1, 'published once')
  })

  test(`[MQTT-3.14.4-3][MQTT-3.1.2-10] ${version.label}: after DISCONNECT the broker closes the connection and discards the will`, async ({ broker }) => {
    const wills = await watch(broker, `wills/polite-${v}/#`)
    const raw = await rawWithWill(broker, version, `polite-raw-${v}`, { topic: `wills/polite-${v}/raw`, qos: 1 })
    raw.send({ cmd: 'disconnect' })
    assert.ok(await raw.closesWithin(3000), 'the broker closes the connection after DISCONNECT')
    const mqttjs = await connectClient(broker.url, {
      protocolVersion: version.level,
      protocolId: version.protocolId,
      clientId: `polite-js-${v}`,
      will: { topic: `wills/polite-${v}/js`, payload: Buffer.from('should not be seen'), qos: 1, retain: false }
    })
    await mqttjs.endAsync() // sends DISCONNECT
    await eventually(() => broker.broker.connections.size === 1, 'both connections to be gone (only the watcher left)')
    await quietFor(300)
    assert.equal(wills, [], 'no will after a DISCONNECT')
  })

  test(`[MQTT-3.12.4-1] ${version.label}: every PINGREQ gets a PINGRESP`, async ({ broker }) => {
    const raw = await rawWithWill(broker, version, `pinger-${v}`, undefined)
    raw.sendBytes([0xc0, 0x00, 0xc0, 0x00, 0xc0, 0x00])
    for (let i = 0; i < 3; i++) await raw.next('pingresp')
    raw.send({ cmd: 'pingreq' })
    await raw.next('pingresp')
    assert.equal(raw.received, [], 'PINGRESPs and nothing else')
  })
}

test('[MQTT-3.1.2-8][MQTT-4.8.0-1] a protocol violation closes the connection and publishes the will', async ({ broker }) => {
  const wills = await watch(broker, 'wills/violation/#')
  const version = VERSIONS[1]
  const second = await rawWithWill(broker, version, 'second-connect', { topic: 'wills/violation/second-connect' })
  second.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId: 'second-connect', keepalive: 60 })
  const malformed = await rawWithWill(broker, version, 'malformed', { topic: 'wills/violation/malformed' })
  malformed.sendBytes([0x36, 0x07, 0x00, 0x01, 0x61, 0x00, 0x01, 0x68, 0x69]) // PUBLISH with QoS bits 11
  const wildcard = await rawWithWill(broker, version, 'wildcard', { topic: 'wills/violation/wildcard' })
  wildcard.send({ cmd: 'publish', topic: 'no/+/wildcards', payload: Buffer.from('x'), qos: 0, retain: false, dup: false })
  for (const client of [second, malformed, wildcard]) assert.ok(await client.closesWithin(3000), 'the connection is closed')
  await eventually(() => wills.length === 3, 'the three wills')
  assert.equal(wills.map(will => will.topic).sort(), ['wills/violation/malformed', 'wills/violation/second-connect', 'wills/violation/wildcard'])
  await assertStillServing(broker)
})

test('[MQTT-3.14.1-1] a DISCONNECT with reserved flag bits set closes the connection, and is not a clean disconnect: the will is published', async ({ broker }) => {
  const wills = await watch(broker, 'wills/bad-disconnect')
  const raw = await rawWithWill(broker, VERSIONS[1], 'bad-disconnect', { topic: 'wills/bad-disconnect', qos: 1 })
  raw.sendBytes([0xe1, 0x00])
  assert.ok(await raw.closesWithin(3000), 'the connection is closed')
  await eventually(() => wills.length === 1, 'the will')
  await assertStillServing(broker)
})

test('[MQTT-3.1.2-12] without a will, nothing is published when the connection drops', async ({ broker }) => {
  const everything = await watch(broker, '#')
  const version = VERSIONS[1]
  const raw = await rawWithWill(broker, version, 'no-will', undefined, { keepalive: 1 })
  raw.end()
  const silent = await rawWithWill(broker, version, 'no-will-silent', undefined, { keepalive: 1 })
  assert.ok(await silent.closesWithin(4000), 'the silent one is dropped for its keep-alive')
  await quietFor(300)
  assert.equal(everything, [], 'no message was published')
})

test('[MQTT-3.1.2-17] a will with retain 1 is published as a retained message', async ({ broker }) => {
  const existing = await watch(broker, 'wills/retained')
  const raw = await rawWithWill(broker, VERSIONS[1], 'retainer', { topic: 'wills/retained', payload: 'offline', qos: 1, retain: true })
  raw.end()
  await eventually(() => existing.length === 1, 'the will for the existing subscriber')
  const late = await watch(broker, 'wills/retained')
  await eventually(() => late.length === 1, 'the retained will for a later subscriber')
  assert.is(late[0]!.payload, 'offline')
  assert.is(late[0]!.retain, true, 'delivered as retained')
})

test('[MQTT-3.1.2-16] a will with retain 0 is published but not retained', async ({ broker }) => {
  const existing = await watch(broker, 'wills/not-retained')
  const raw = await rawWithWill(broker, VERSIONS[0], 'not-retainer', { topic: 'wills/not-retained', qos: 1, retain: false })
  raw.end()
  await eventually(() => existing.length === 1, 'the will for the existing subscriber')
  assert.is(existing[0]!.retain, false)
  const late = await watch(broker, 'wills/not-retained')
  await quietFor(300)
  assert.equal(late, [], 'a later subscriber gets nothing')
})

test('[MQTT-3.1.2-9][MQTT-3.1.2-14] the will QoS is honoured', async ({ broker }) => {
  const wills = await watch(broker, 'wills/qos/+')
  // An offline persistent subscriber keeps the QoS 1 and 2 wills, not the QoS 0 one.
  const away = await connectClient(broker.url, { clientId: 'away', clean: false })
  await away.subscribeAsync('wills/qos/+', { qos: 2 })
  await away.endAsync()
  await eventually(() => broker.broker.sessions.get('away')?.online === false, 'the persistent subscriber to go offline')
  for (const qos of [0, 1, 2] as const) {
    const raw = await rawWithWill(broker, VERSIONS[qos % 2], `will-qos-${qos}`, { topic: `wills/qos/${qos}`, payload: `qos ${qos}`, qos })
    raw.end()
  }
  await eventually(() => wills.length === 3, 'the three wills')
  const byTopic = new Map(wills.map(will => [will.topic, will.qos]))
  assert.equal([byTopic.get('wills/qos/0'), byTopic.get('wills/qos/1'), byTopic.get('wills/qos/2')], [0, 1, 2], 'each will arrives at its own QoS')
  // A RawClient keeps every packet from the CONNACK on, so nothing delivered on resume is missed.
  const back = await RawClient.connect(broker.port)
  await back.handshake({ clientId: 'away', clean: false })
  const queued = [await back.next('publish'), await back.next('publish')]
  await quietFor(200)
  assert.not.ok(back.received.some(packet => packet.cmd === 'publish'), 'nothing more was queued')
  assert.equal(queued.map(will => [will.topic, will.qos]).sort(), [['wills/qos/1', 1], ['wills/qos/2', 2]], 'the QoS 1 and 2 wills were queued, the QoS 0 one was not')
})

test('[MQTT-3.1.4-1] a will topic with a wildcard is refused without CONNACK', async ({ broker }) => {
  const raw = await RawClient.connect(broker.port)
  raw.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId: 'wild-will', keepalive: 60, will: { topic: 'wills/#', payload: Buffer.from('x'), qos: 0, retain: false } })
  assert.ok(await raw.closesWithin(3000), 'the connection is closed')
  assert.not.ok(raw.received.some(packet => packet.cmd === 'connack'), 'no CONNACK')
  await assertStillServing(broker)
})

test('[MQTT-3.1.2-24] a client that keeps talking stays connected past its keep-alive (PINGREQ every 0.5 s; MQTT.js pinging by itself)', async ({ broker }) => {
  const pinger = await rawWithWill(broker, VERSIONS[1], 'pinger', undefined, { keepalive: 1 })
  const publisher = await rawWithWill(broker, VERSIONS[0], 'publisher', undefined, { keepalive: 1 })
  const mqttjs = await connectClient(broker.url, { clientId: 'mqttjs-pinger', keepalive: 1 })
  let pongs = 0
  const timer = setInterval(() => {
    pinger.send({ cmd: 'pingreq' })
    publisher.send({ cmd: 'publish', topic: 'chatter', payload: Buffer.from('.'), qos: 0, retain: false, dup: false })
  }, 500)
  try {
    const deadline = Date.now() + 3000
    while (Date.now() < deadline) {
      await pinger.next('pingresp', 1000)
      pongs++
    }
  } finally {
    clearInterval(timer)
  }
  assert.ok(pongs >= 4, `PINGRESPs kept coming (${pongs})`)
  assert.not.ok(pinger.connectionClosed, 'the client sending PINGREQ is still connected after 3 s')
  assert.not.ok(publisher.connectionClosed, 'any packet counts as activity: the publishing client is still connected')
  assert.ok(mqttjs.connected, 'MQTT.js with keep-alive 1 is still connected')
  assert.is(broker.broker.connections.size, 3)
})

test('maxKeepalive 2: a client asking for keep-alive 0 or 60 is still dropped after its silence', async context => {
  const broker = await restart(context, { maxKeepalive: 2 })
  const wills = await watch(broker, 'wills/capped/#', { keepalive: 1 }) // pings, so the cap does not drop it
  const zero = await rawWithWill(broker, VERSIONS[1], 'capped-zero', { topic: 'wills/capped/zero' }, { keepalive: 0 })
  const long = await rawWithWill(broker, VERSIONS[0], 'capped-long', { topic: 'wills/capped/long' }, { keepalive: 60 })
  const [zeroClosed, longClosed] = await Promise.all([zero.closesWithin(6000), long.closesWithin(6000)])
  assert.ok(zeroClosed, 'keep-alive 0 capped to 2 s: closed within 6 s')
  assert.ok(longClosed, 'keep-alive 60 capped to 2 s: closed within 6 s')
  await eventually(() => wills.length === 2, 'both wills')
  await assertStillServing(broker)
})

test.run()
