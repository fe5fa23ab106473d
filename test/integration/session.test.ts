import mqtt, { type IClientOptions, type MqttClient } from 'mqtt'
import type { IConnackPacket, IPublishPacket, Packet } from 'mqtt-packet'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { closeAllClients, collect, connectClient, eventually, quietFor, type Received } from '../helpers/mqtt-clients.js'
import { RawClient } from '../helpers/raw-client.js'
import { startBroker, type TestBroker } from '../helpers/test-broker.js'
import { V3_VERSIONS, type V3Version } from '../helpers/v3-versions.js'

/**
 * Sessions over real TCP (MQTT 3.1.1 sections 3.1.2.4, 3.2.2, 4.1, 4.4): clean session,
 * session present, what is kept and queued while the client is away, redelivery on
 * reconnect, takeover by a second connection, and the queue bound.
 */
const test = suite<{ broker: TestBroker }>('session')

const opened = new Set<MqttClient>()

test.before.each(async context => { context.broker = await startBroker() })
test.after.each(async context => {
  RawClient.closeAll()
  await Promise.all([...opened].map(async client => await client.endAsync(true).catch(() => undefined)))
  opened.clear()
  await closeAllClients()
  await context.broker.close()
})

const VERSIONS = V3_VERSIONS
type Version = V3Version

interface Opened {
  readonly client: MqttClient
  /** Every message since before CONNACK, so messages delivered on resume are not missed. */
  readonly received: Received[]
  /** PUBLISH packets in the order they came off the wire (MQTT.js emits QoS 2 messages only after PUBREL). */
  readonly wire: IPublishPacket[]
  readonly connack: IConnackPacket
}

/** Connects MQTT.js with its message collector attached before the CONNECT goes out. */
async function open (broker: TestBroker, version: Version, options: IClientOptions): Promise<Opened> {
  const client = mqtt.connect(broker.url, { protocolVersion: version.level, protocolId: version.protocolId, reconnectPeriod: 0, connectTimeout: 5000, ...options })
  opened.add(client)
  const received = collect(client)
  const wire: IPublishPacket[] = []
  client.on('packetreceive', packet => { if (packet.cmd === 'publish') wire.push(packet) })
  const connack = await new Promise<IConnackPacket>((resolve, reject) => {
    client.once('connect', resolve)
    client.once('error', reject)
    client.once('close', () => reject(new Error('closed before CONNACK')))
  })
  return { client, received, wire, connack }
}

/** Connects a RawClient for `clientId`; every packet the broker sends is kept in `received`. */
async function raw (broker: TestBroker, version: Version, clientId: string, fields: Partial<Extract<Packet, { cmd: 'connect' }>> = {}): Promise<{ client: RawClient, connack: Extract<Packet, { cmd: 'connack' }> }> {
  const client = await RawClient.connect(broker.port, version.level)
  const connack = await client.handshake({ protocolId: version.protocolId, protocolVersion: version.level, clientId, clean: false, ...fields })
  assert.is(connack.returnCode, 0, `${clientId} is accepted`)
  return { client, connack }
}

async function rawSubscribe (client: RawClient, topic: string, qos: 0 | 1 | 2): Promise<void> {
  client.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic, qos }] })
  const suback = await client.next('suback')
  assert.equal(suback.granted, [qos])
}

/** Waits until the broker has noticed that `clientId`'s connection is gone. */
async function offline (broker: TestBroker, clientId: string): Promise<void> {
  await eventually(() => broker.broker.sessions.get(clientId)?.online === false, `${clientId}'s session to go offline`)
}

/** The session present flag a resumed session gets: MQTT 3.1 has a reserved byte there, always 0. */
function resumedFlag (version: Version): boolean {
  return version.level >= 4
}

async function publisher (broker: TestBroker): Promise<MqttClient> {
  return await connectClient(broker.url)
}

for (const version of VERSIONS) {
  const v = version.level

  test(`[MQTT-3.2.2-3] ${version.label}: clean session 0 without a stored session gets CONNACK 0 with session present 0`, async ({ broker }) => {
    const { connack } = await open(broker, version, { clientId: `fresh-${v}`, clean: false })
    assert.is(connack.returnCode, 0)
    assert.is(connack.sessionPresent, false)
  })

  test(`[MQTT-3.2.2-2][MQTT-3.1.2-4][MQTT-4.1.0-1] ${version.label}: clean session 0 resumes the stored session and its subscriptions (session present ${resumedFlag(version) ? 1 : 'stays 0: reserved in 3.1'})`, async ({ broker }) => {
    const clientId = `resume-${v}`
    const first = await open(broker, version, { clientId, clean: false })
    await first.client.subscribeAsync(`resume/${v}/#`, { qos: 1 })
    await first.client.endAsync()
    await offline(broker, clientId)
    const second = await open(broker, version, { clientId, clean: false })
    assert.is(second.connack.returnCode, 0)
    assert.is(second.connack.sessionPresent, resumedFlag(version), 'session present')
    // Without subscribing again, the old subscription still delivers.
    const pub = await publisher(broker)
    await pub.publishAsync(`resume/${v}/a`, 'kept', { qos: 1 })
    await eventually(() => second.received.length === 1, 'a message through the resumed subscription')
    assert.is(second.received[0]!.payload, 'kept')
    // And it is still there after a second reconnect.
    await second.client.endAsync()
    await offline(broker, clientId)
    const third = await open(broker, version, { clientId, clean: false })
    assert.is(third.connack.sessionPresent, resumedFlag(version))
    await pub.publishAsync(`resume/${v}/b`, 'still kept', { qos: 1 })
    await eventually(() => third.received.length === 1, 'a message after the second reconnect')
  })

  test(`[MQTT-3.2.2-1][MQTT-3.1.2-6][MQTT-3.1.4-3] ${version.label}: clean session 1 gets session present 0 and discards the stored session`, async ({ broker }) => {
    const clientId = `discard-${v}`
    const first = await open(broker, version, { clientId, clean: false })
    await first.client.subscribeAsync(`discard/${v}`, { qos: 1 })
    await first.client.endAsync()
    await offline(broker, clientId)
    const pub = await publisher(broker)
    await pub.publishAsync(`discard/${v}`, 'queued for the old session', { qos: 1 })
    const clean = await open(broker, version, { clientId, clean: true })
    assert.is(clean.connack.returnCode, 0)
    assert.is(clean.connack.sessionPresent, false, 'clean session 1: session present 0')
    await pub.publishAsync(`discard/${v}`, 'after the clean start', { qos: 1 })
    await quietFor(300)
    assert.equal(clean.received, [], 'neither the queued message nor the old subscription survived')
    // The clean session ends with its connection: nothing is stored for the id afterwards.
    await clean.client.endAsync()
    await eventually(() => broker.broker.sessions.get(clientId) === undefined, 'the clean session to end with its connection')
    const again = await open(broker, version, { clientId, clean: false })
    assert.is(again.connack.sessionPresent, false, 'no session was left to resume')
    await pub.publishAsync(`discard/${v}`, 'nobody subscribed', { qos: 1 })
    await quietFor(300)
    assert.equal(again.received, [])
  })

  test(`[MQTT-3.1.2-5] ${version.label}: QoS 1 and 2 messages published while offline are delivered on reconnect, in order; QoS 0 is not kept`, async ({ broker }) => {
    const clientId = `offline-${v}`
    const first = await open(broker, version, { clientId, clean: false })
    await first.client.subscribeAsync(`offline/${v}`, { qos: 2 })
    await first.client.endAsync()
    await offline(broker, clientId)
    const pub = await publisher(broker)
    await pub.publishAsync(`offline/${v}`, 'qos1-a', { qos: 1 })
    await pub.publishAsync(`offline/${v}`, 'qos0', { qos: 0 })
    await pub.publishAsync(`offline/${v}`, 'qos2', { qos: 2 })
    await pub.publishAsync(`offline/${v}`, 'qos1-b', { qos: 1 })
    await eventually(() => broker.broker.counters.dropped.offline === 1, 'the QoS 0 message to be dropped for the offline client')
    const second = await open(broker, version, { clientId, clean: false })
    await eventually(() => second.received.length === 3, 'the three queued messages')
    assert.equal(second.wire.map(p => [p.payload.toString(), p.qos]), [['qos1-a', 1], ['qos2', 2], ['qos1-b', 1]], 'sent in the order they were published')
    await quietFor(300)
    assert.is(second.received.length, 3, 'the QoS 0 message is not delivered')
  })

  test(`[MQTT-4.4.0-1][MQTT-3.3.1-1] ${version.label}: an unacknowledged QoS 1 PUBLISH is re-sent on reconnect with DUP=1 and the same packet id, before what was queued meanwhile`, async ({ broker }) => {
    const clientId = `redeliver1-${v}`
    const { client: first } = await raw(broker, version, clientId)
    await rawSubscribe(first, `redeliver/${v}`, 1)
    const pub = await publisher(broker)
    await pub.publishAsync(`redeliver/${v}`, 'unacknowledged', { qos: 1 })
    const original = await first.next('publish')
    assert.is(original.dup, false)
    assert.is(original.qos, 1)
    first.end() // no PUBACK
    await offline(broker, clientId)
    await pub.publishAsync(`redeliver/${v}`, 'queued', { qos: 1 })

    const { client: second, connack } = await raw(broker, version, clientId)
    assert.is(connack.sessionPresent, resumedFlag(version))
    const again = await second.next('publish')
    assert.is(again.payload.toString(), 'unacknowledged', 'the unacknowledged message comes first')
    assert.is(again.dup, true, 'DUP is set on the re-sent PUBLISH')
    assert.is(again.messageId, original.messageId, 'with its original packet id')
    assert.is(again.qos, 1)
    const queued = await second.next('publish')
    assert.is(queued.payload.toString(), 'queued')
    assert.is(queued.dup, false, 'a first delivery has DUP=0')
    second.send({ cmd: 'puback', messageId: again.messageId! })
    second.send({ cmd: 'puback', messageId: queued.messageId! })
    second.send({ cmd: 'pingreq' })
    await second.next('pingresp') // the PUBACKs were read
    second.end()
    await offline(broker, clientId)

    const { client: third } = await raw(broker, version, clientId)
    await quietFor(300)
    assert.not.ok(third.received.some(packet => packet.cmd === 'publish'), 'acknowledged messages are not sent again')
  })

  test(`[MQTT-4.4.0-1] ${version.label}: QoS 2 after PUBREC: on reconnect the broker re-sends PUBREL with the same id, not the PUBLISH`, async ({ broker }) => {
    const clientId = `redeliver2-${v}`
    const { client: first } = await raw(broker, version, clientId)
    await rawSubscribe(first, `redeliver2/${v}`, 2)
    const pub = await publisher(broker)
    await pub.publishAsync(`redeliver2/${v}`, 'exactly once', { qos: 2 })
    const publish = await first.next('publish')
    assert.is(publish.qos, 2)
    first.send({ cmd: 'pubrec', messageId: publish.messageId! })
    const pubrel = await first.next('pubrel')
    assert.is(pubrel.messageId, publish.messageId)
    first.end() // no PUBCOMP
    await offline(broker, clientId)

    const { client: second } = await raw(broker, version, clientId)
    const again = await second.next('pubrel')
    assert.is(again.messageId, publish.messageId, 'PUBREL is re-sent with the original packet id')
    await quietFor(200)
    assert.not.ok(second.received.some(packet => packet.cmd === 'publish'), 'the PUBLISH itself is not sent again')
    second.send({ cmd: 'pubcomp', messageId: again.messageId! })
    second.send({ cmd: 'pingreq' })
    await second.next('pingresp')
    second.end()
    await offline(broker, clientId)

    const { client: third } = await raw(broker, version, clientId)
    await quietFor(300)
    assert.equal(third.received, [], 'a completed QoS 2 flow leaves nothing to re-send')
  })

  test(`[MQTT-4.4.0-1][MQTT-3.3.1-1] ${version.label}: QoS 2 before PUBREC: on reconnect the PUBLISH is re-sent with DUP=1 and the same id`, async ({ broker }) => {
    const clientId = `redeliver2p-${v}`
    const { client: first } = await raw(broker, version, clientId)
    await rawSubscribe(first, `redeliver2p/${v}`, 2)
    const pub = await publisher(broker)
    await pub.publishAsync(`redeliver2p/${v}`, 'not yet received', { qos: 2 })
    const publish = await first.next('publish')
    first.end() // no PUBREC
    await offline(broker, clientId)

    const { client: second } = await raw(broker, version, clientId)
    const again = await second.next('publish')
    assert.is(again.dup, true)
    assert.is(again.messageId, publish.messageId)
    assert.is(again.qos, 2)
    second.send({ cmd: 'pubrec', messageId: again.messageId! })
    const pubrel = await second.next('pubrel')
    assert.is(pubrel.messageId, again.messageId, 'the flow completes on the new connection')
  })

  test(`[MQTT-3.1.4-2][MQTT-3.2.2-2] ${version.label}: a second connection with the same client id closes the first and takes over its session`, async ({ broker }) => {
    const clientId = `takeover-${v}`
    const { client: old } = await raw(broker, version, clientId)
    await rawSubscribe(old, `takeover/${v}`, 1)
    const pub = await publisher(broker)
    await pub.publishAsync(`takeover/${v}`, 'in flight', { qos: 1 })
    const inFlight = await old.next('publish') // not acknowledged

    const { client: fresh, connack } = await raw(broker, version, clientId)
    assert.ok(await old.closesWithin(3000), 'the first connection is closed')
    assert.is(connack.sessionPresent, resumedFlag(version), 'the new connection gets the stored session')
    const again = await fresh.next('publish')
    assert.is(again.payload.toString(), 'in flight', 'the message in flight moves to the new connection')
    assert.is(again.dup, true)
    assert.is(again.messageId, inFlight.messageId)
    fresh.send({ cmd: 'puback', messageId: again.messageId! })
    await pub.publishAsync(`takeover/${v}`, 'after the takeover', { qos: 1 })
    const after = await fresh.next('publish')
    assert.is(after.payload.toString(), 'after the takeover', 'the subscription now delivers to the new connection')
    assert.is(broker.broker.connections.size, 2, 'the publisher and the new connection; the old one is gone')
  })
}

test('[MQTT-3.1.4-2][MQTT-3.1.2-6] a takeover with clean session 1 closes the first connection and discards its session', async ({ broker }) => {
  const version = VERSIONS[1]
  const { client: old } = await raw(broker, version, 'takeover-clean')
  await rawSubscribe(old, 'takeover-clean/topic', 1)
  const { client: fresh, connack } = await raw(broker, version, 'takeover-clean', { clean: true })
  assert.ok(await old.closesWithin(3000), 'the first connection is closed')
  assert.is(connack.sessionPresent, false)
  const pub = await publisher(broker)
  await pub.publishAsync('takeover-clean/topic', 'to the old subscription', { qos: 1 })
  await quietFor(300)
  assert.not.ok(fresh.received.some(packet => packet.cmd === 'publish'), 'the old session\'s subscription is gone')
  assert.not.ok(fresh.connectionClosed, 'the new connection stays open')
})

test('[MQTT-3.1.4-2][MQTT-3.2.2-3] taking over a clean-session connection with clean session 0 gets session present 0 and a new session', async ({ broker }) => {
  const version = VERSIONS[1]
  const { client: old } = await raw(broker, version, 'takeover-of-clean', { clean: true })
  await rawSubscribe(old, 'takeover-of-clean/topic', 1)
  const { client: fresh, connack } = await raw(broker, version, 'takeover-of-clean', { clean: false })
  assert.ok(await old.closesWithin(3000), 'the first connection is closed')
  assert.is(connack.sessionPresent, false, 'the clean session ended with its connection: nothing to resume')
  const pub = await publisher(broker)
  await pub.publishAsync('takeover-of-clean/topic', 'to the clean session', { qos: 1 })
  await quietFor(300)
  assert.not.ok(fresh.received.some(packet => packet.cmd === 'publish'), 'the clean session\'s subscription did not carry over')
})

test('[MQTT-3.1.4-2][MQTT-3.1.2-8] the will of a taken-over connection is published, once', async ({ broker }) => {
  const watcher = await connectClient(broker.url)
  await watcher.subscribeAsync('wills/#', { qos: 1 })
  const wills = collect(watcher)
  const version = VERSIONS[1]
  const { client: old } = await raw(broker, version, 'will-takeover', { will: { topic: 'wills/will-takeover', payload: Buffer.from('old connection gone'), qos: 1, retain: false } })
  const { client: fresh } = await raw(broker, version, 'will-takeover', { will: { topic: 'wills/will-takeover', payload: Buffer.from('new connection gone'), qos: 1, retain: false } })
  assert.ok(await old.closesWithin(3000))
  await eventually(() => wills.length === 1, 'the old connection\'s will')
  assert.is(wills[0]!.payload, 'old connection gone')
  await quietFor(300)
  assert.is(wills.length, 1, 'only the old connection\'s will, once')
  assert.not.ok(fresh.connectionClosed)
})

test('[MQTT-3.1.2-6][MQTT-4.1.0-2] a clean session lasts as long as its connection and no longer', async ({ broker }) => {
  const version = VERSIONS[1]
  const clean = await open(broker, version, { clientId: 'short-lived', clean: true })
  await clean.client.subscribeAsync('short/lived', { qos: 1 })
  const pub = await publisher(broker)
  await pub.publishAsync('short/lived', 'while connected', { qos: 1 })
  await eventually(() => clean.received.length === 1, 'a message while connected')
  await clean.client.endAsync()
  await eventually(() => broker.broker.sessions.get('short-lived') === undefined, 'the session to end with the connection')
  await pub.publishAsync('short/lived', 'after it ended', { qos: 1 })
  const resumed = await open(broker, version, { clientId: 'short-lived', clean: false })
  assert.is(resumed.connack.sessionPresent, false, 'there is no session to resume')
  await quietFor(300)
  assert.equal(resumed.received, [], 'nothing was kept for it')
})

test('[MQTT-3.1.2-7] retained messages are not session state: they outlive the session that published them', async ({ broker }) => {
  const version = VERSIONS[1]
  const retainer = await open(broker, version, { clientId: 'retainer', clean: true })
  await retainer.client.publishAsync('retained/status', 'on', { qos: 1, retain: true })
  await retainer.client.endAsync()
  await eventually(() => broker.broker.sessions.get('retainer') === undefined, 'the publisher\'s session to end')
  const later = await open(broker, version, { clientId: 'later', clean: true })
  await later.client.subscribeAsync('retained/#', { qos: 1 })
  await eventually(() => later.received.length === 1, 'the retained message')
  assert.is(later.received[0]!.payload, 'on')
  assert.is(later.received[0]!.retain, true)
})

test('[MQTT-3.1.3-2] the client id identifies the session: another client id does not get it', async ({ broker }) => {
  const version = VERSIONS[1]
  const owner = await open(broker, version, { clientId: 'session-a', clean: false })
  await owner.client.subscribeAsync('identity/topic', { qos: 1 })
  await owner.client.endAsync()
  await offline(broker, 'session-a')
  const pub = await publisher(broker)
  await pub.publishAsync('identity/topic', 'for session-a', { qos: 1 })
  const other = await open(broker, version, { clientId: 'session-b', clean: false })
  assert.is(other.connack.sessionPresent, false, 'session-b has no stored session')
  await quietFor(300)
  assert.equal(other.received, [], 'session-a\'s queued message does not go to session-b')
  const back = await open(broker, version, { clientId: 'session-a', clean: false })
  assert.is(back.connack.sessionPresent, true)
  await eventually(() => back.received.length === 1, 'session-a\'s queued message')
})

test('[MQTT-4.4.0-1][MQTT-4.1.0-1] inbound QoS 2 state survives a reconnect: a re-sent PUBLISH is acknowledged, not routed twice', async ({ broker }) => {
  const watcher = await connectClient(broker.url)
  await watcher.subscribeAsync('inbound/qos2', { qos: 2 })
  const seen = collect(watcher)
  const version = VERSIONS[1]
  const publish: Packet = { cmd: 'publish', topic: 'inbound/qos2', payload: Buffer.from('once'), qos: 2, retain: false, dup: false, messageId: 42 }
  const { client: first } = await raw(broker, version, 'qos2-sender')
  first.send(publish)
  assert.is((await first.next('pubrec')).messageId, 42)
  first.end() // the PUBREC is "lost": no PUBREL
  await offline(broker, 'qos2-sender')

  const { client: second } = await raw(broker, version, 'qos2-sender')
  second.send({ ...publish, dup: true })
  assert.is((await second.next('pubrec')).messageId, 42, 'the re-sent PUBLISH is acknowledged with PUBREC')
  second.send({ cmd: 'pubrel', messageId: 42 })
  assert.is((await second.next('pubcomp')).messageId, 42)
  await eventually(() => seen.length === 1, 'the message')
  await quietFor(300)
  assert.is(seen.length, 1, 'the subscriber got the message exactly once')
})

test('maxQueued: messages beyond the bound are dropped, counted and logged; the oldest are delivered in order', async context => {
  await context.broker.close()
  context.broker = await startBroker({ maxQueued: 5 })
  const { broker } = context
  const version = VERSIONS[1]
  const first = await open(broker, version, { clientId: 'slowpoke', clean: false })
  await first.client.subscribeAsync('queue/#', { qos: 1 })
  await first.client.endAsync()
  await offline(broker, 'slowpoke')
  const pub = await publisher(broker)
  for (let i = 0; i < 8; i++) await pub.publishAsync('queue/items', `m${i}`, { qos: 1 })

  assert.is(broker.broker.counters.dropped['queue-full'], 3, 'the three messages over the bound are counted')
  const warnings = broker.logs.filter(line => /queue full/.test(line.msg))
  assert.is(warnings.length, 1, 'one log line about the full queue, not one per message')
  assert.is(warnings[0]!.clientId, 'slowpoke')

  const second = await open(broker, version, { clientId: 'slowpoke', clean: false })
  await eventually(() => second.received.length === 5, 'the five queued messages')
  assert.equal(second.received.map(m => m.payload), ['m0', 'm1', 'm2', 'm3', 'm4'])
  await quietFor(300)
  assert.is(second.received.length, 5, 'exactly the bound, no more')
  await pub.publishAsync('queue/items', 'after', { qos: 1 })
  await eventually(() => second.received.length === 6, 'a message once the queue drained')
  assert.is(second.received[5]!.payload, 'after')
})

test('the broker keeps serving after takeovers and redeliveries', async ({ broker }) => {
  const version = VERSIONS[1]
  const flapping: RawClient[] = []
  for (let i = 0; i < 3; i++) flapping.push((await raw(broker, version, 'flapping')).client)
  assert.ok(await flapping[0]!.closesWithin(3000), 'each takeover closed the connection before it')
  assert.ok(await flapping[1]!.closesWithin(3000))
  assert.not.ok(flapping[2]!.connectionClosed, 'the last one holds the client id')
  const subscriber = await open(broker, version, { clientId: 'steady', clean: true })
  await subscriber.client.subscribeAsync('steady/topic', { qos: 1 })
  const pub = await publisher(broker)
  await pub.publishAsync('steady/topic', 'fine', { qos: 1 })
  await eventually(() => subscriber.received.length === 1, 'a normal round trip')
})

test.run()
