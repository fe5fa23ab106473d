import type { ErrorWithReasonCode, MqttClient } from 'mqtt'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { connectionRefusal } from '../helpers/connection-refusal.js'
import { collect, connectClient, eventually, quietFor } from '../helpers/mqtt-clients.js'
import { acceptedV5, openV5, rawSubscribe, rawV5, serverDisconnect } from '../helpers/mqtt5-clients.js'
import { RawClient } from '../helpers/raw-client.js'
import { assertStillServing } from '../helpers/still-serving.js'
import { startBroker, type TestBroker } from '../helpers/test-broker.js'
import { closeTestClients } from '../helpers/broker-per-test.js'

/**
 * Limits on what one client sends: client id length, topic length and levels (PUBLISH,
 * SUBSCRIBE, will), subscriptions per session and queued bytes per session. Each refusal
 * uses the code the protocol has for it, the connection (where it can) and the broker stay up,
 * and the count shows in `counters.limited`.
 */
const test = suite<{ broker?: TestBroker }>('client limits')

test.after.each(async context => {
  await closeTestClients()
  await context.broker?.close()
})

/** The SUBACK codes MQTT.js rejects a subscription with (it rejects when any filter failed). */
async function refusedSubscribe (client: MqttClient, filter: string): Promise<number[] | undefined> {
  return await client.subscribeAsync(filter).then(() => undefined, (failure: Error & { packet?: { granted?: number[] } }) => failure.packet?.granted)
}

const DEEP = 'a/b/c/d/e' // 5 levels
const LONG = `long/${'x'.repeat(40)}` // 45 bytes

test('[MQTT-3.1.3-8][MQTT-3.1.3-9] a client id over max-client-id-length gets 0x85 Client Identifier not valid (MQTT 3.1.1: return code 2); one at the limit gets in', async context => {
  const broker = context.broker = await startBroker({ maxClientIdLength: 23 })
  const { client, connack } = await rawV5(broker, { clientId: 'x'.repeat(24) })
  assert.is(connack.reasonCode, 0x85)
  assert.ok(await client.closesWithin(5000))
  const v3 = await RawClient.connect(broker.port)
  assert.is((await v3.handshake({ clientId: 'y'.repeat(24) })).returnCode, 2)
  assert.ok(await v3.closesWithin(5000))
  // Bytes count, not characters: 12 two-byte characters are 24 bytes.
  assert.match(await connectionRefusal(broker.url, { clientId: 'é'.repeat(12) }), 'Identifier rejected')
  assert.match(await connectionRefusal(broker.url, { protocolVersion: 5, clientId: 'é'.repeat(12) }), 'Client Identifier not valid')
  await acceptedV5(broker, { clientId: 'z'.repeat(23) })
  assert.is(broker.broker.counters.limited['max-client-id-length'], 4)
  assert.ok(broker.logs.some(line => line.limit === 'max-client-id-length' && typeof line.clientId === 'string' && line.address !== undefined), 'logged with the client id and address')
  await assertStillServing(broker)
})

test('max-topic-levels / max-topic-length, MQTT 5: QoS 1 and 2 PUBLISH get PUBACK/PUBREC 0x90 Topic Name invalid, are not routed, and the connection stays', async context => {
  const broker = context.broker = await startBroker({ maxTopicLevels: 4, maxTopicLength: 32 })
  const watcher = await openV5(broker, { clientId: 'watcher' })
  await watcher.client.subscribeAsync('#', { qos: 1 })
  const { client } = await acceptedV5(broker, { clientId: 'deep-publisher' })
  client.send({ cmd: 'publish', topic: DEEP, payload: Buffer.from('deep'), qos: 1, messageId: 1, retain: false, dup: false })
  assert.is((await client.next('puback')).reasonCode, 0x90)
  client.send({ cmd: 'publish', topic: LONG, payload: Buffer.from('long'), qos: 2, messageId: 2, retain: false, dup: false })
  assert.is((await client.next('pubrec')).reasonCode, 0x90)
  // The same connection goes on publishing within the limits.
  client.send({ cmd: 'publish', topic: 'a/b/c/d', payload: Buffer.from('fits'), qos: 1, messageId: 3, retain: false, dup: false })
  assert.is((await client.next('puback')).reasonCode, 0)
  await eventually(() => watcher.received.length === 1, 'the message within the limits')
  assert.equal(watcher.received.map(message => message.topic), ['a/b/c/d'], 'nothing over the limits was routed')
  assert.is(broker.broker.counters.limited['max-topic-levels'], 1)
  assert.is(broker.broker.counters.limited['max-topic-length'], 1)
  assert.ok(broker.logs.some(line => line.limit === 'max-topic-levels' && line.clientId === 'deep-publisher'), 'logged with the client id')

  // MQTT.js sees the refusal as a publish error carrying the reason code.
  const mqttjs = await connectClient(broker.url, { protocolVersion: 5, clientId: 'mqttjs' })
  const error = await mqttjs.publishAsync(DEEP, 'x', { qos: 1 }).then(() => undefined, (failure: ErrorWithReasonCode) => failure)
  assert.is(error?.code, 0x90)
})

test('max-topic-levels, MQTT 5 QoS 0: there is no acknowledgement to refuse it with, so the client gets DISCONNECT 0x90', async context => {
  const broker = context.broker = await startBroker({ maxTopicLevels: 4 })
  const { client } = await acceptedV5(broker, { clientId: 'qos0' })
  client.send({ cmd: 'publish', topic: DEEP, payload: Buffer.from('x'), qos: 0, retain: false, dup: false })
  await serverDisconnect(client, 0x90)
  await assertStillServing(broker)
})

test('max-topic-levels, MQTT 3.1.1: a PUBLISH over it closes the connection (v3 cannot refuse a PUBLISH); its will is published and other clients go on', async context => {
  const broker = context.broker = await startBroker({ maxTopicLevels: 4 })
  const watcher = await connectClient(broker.url, { clientId: 'watcher' })
  await watcher.subscribeAsync('wills/#', { qos: 1 })
  const wills = collect(watcher)
  const client = await RawClient.connect(broker.port)
  await client.handshake({ clientId: 'too-deep', will: { topic: 'wills/too-deep', payload: Buffer.from('gone'), qos: 1, retain: false } })
  client.send({ cmd: 'publish', topic: DEEP, payload: Buffer.from('x'), qos: 1, messageId: 1, retain: false, dup: false })
  assert.ok(await client.closesWithin(5000), 'the connection closes')
  assert.is(client.received.filter(packet => packet.cmd === 'puback').length, 0, 'the refused message is not acknowledged')
  await eventually(() => wills.length === 1, 'the will of the closed client')
  assert.ok(broker.logs.some(line => line.reason === 'topic-name-invalid' && line.clientId === 'too-deep'), 'the log says why it closed')
  await assertStillServing(broker)
})

test('a SUBSCRIBE filter over max-topic-levels or max-topic-length gets 0x8F Topic Filter invalid (MQTT 3.1.1: 0x80); the other filters are granted', async context => {
  const broker = context.broker = await startBroker({ maxTopicLevels: 4, maxTopicLength: 32 })
  const { client } = await acceptedV5(broker, { clientId: 'v5-subscriber' })
  assert.equal(await rawSubscribe(client, [{ topic: 'a/+/c/#', qos: 1 }, { topic: '+/+/+/+/+', qos: 1 }, { topic: LONG, qos: 0 }, { topic: '$share/group/a/b/c/d', qos: 1 }]), [1, 0x8f, 0x8f, 1])
  const v3 = await RawClient.connect(broker.port)
  await v3.handshake({ clientId: 'v3-subscriber' })
  v3.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: DEEP, qos: 1 }, { topic: 'ok/#', qos: 1 }] })
  assert.equal((await v3.next('suback')).granted, [0x80, 1])
  // MQTT.js reports the refused filter as a subscribe error with its code.
  const mqttjs = await connectClient(broker.url, { clientId: 'mqttjs-subscriber' })
  assert.equal(await refusedSubscribe(mqttjs, DEEP), [0x80])
  assert.is(broker.broker.counters.limited['max-topic-levels'], 3)
  assert.is(broker.broker.counters.limited['max-topic-length'], 1)
})

test('a will topic over max-topic-levels: MQTT 5 gets CONNACK 0x90 Topic Name invalid; MQTT 3.1.1, with no return code for it, is closed without CONNACK [MQTT-3.2.2-6]', async context => {
  const broker = context.broker = await startBroker({ maxTopicLevels: 4 })
  const { client, connack } = await rawV5(broker, { clientId: 'v5-will', will: { topic: DEEP, payload: Buffer.from('x'), qos: 0, retain: false } })
  assert.is(connack.reasonCode, 0x90)
  assert.ok(await client.closesWithin(5000))
  const v3 = await RawClient.connect(broker.port)
  v3.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId: 'v3-will', keepalive: 60, will: { topic: DEEP, payload: Buffer.from('x'), qos: 0, retain: false } })
  assert.ok(await v3.closesWithin(5000))
  assert.is(v3.received.length, 0, 'no CONNACK')
  assert.is(broker.broker.counters.limited['max-topic-levels'], 2)
  await assertStillServing(broker)
})

test('max-subscriptions: filters beyond it get 0x97 Quota exceeded (MQTT 3.1.1: 0x80); replacing a held filter does not count twice, and an unsubscribe frees a place', async context => {
  const broker = context.broker = await startBroker({ maxSubscriptions: 2 })
  const { client } = await acceptedV5(broker, { clientId: 'collector' })
  assert.equal(await rawSubscribe(client, [{ topic: 'one', qos: 1 }, { topic: 'two', qos: 1 }, { topic: 'three', qos: 1 }], undefined, 1), [1, 1, 0x97])
  assert.equal(await rawSubscribe(client, [{ topic: 'one', qos: 2 }], undefined, 2), [2], 'replacing "one" is allowed at the limit')
  client.send({ cmd: 'unsubscribe', messageId: 3, unsubscriptions: ['two'] })
  await client.next('unsuback')
  assert.equal(await rawSubscribe(client, [{ topic: 'three', qos: 1 }, { topic: 'four', qos: 1 }], undefined, 4), [1, 0x97])
  assert.equal([...broker.broker.sessions.get('collector')!.subscriptions.keys()].sort(), ['one', 'three'])

  const v3 = await RawClient.connect(broker.port)
  await v3.handshake({ clientId: 'v3-collector' })
  v3.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'a', qos: 0 }, { topic: 'b', qos: 0 }, { topic: 'c', qos: 0 }] })
  assert.equal((await v3.next('suback')).granted, [0, 0, 0x80])
  const mqttjs = await openV5(broker, { clientId: 'mqttjs-collector' })
  await mqttjs.client.subscribeAsync(['x', 'y'])
  assert.equal(await refusedSubscribe(mqttjs.client, 'z'), [0x97], 'MQTT.js learns Quota exceeded')
  assert.is(broker.broker.counters.limited['max-subscriptions'], 4)
  assert.ok(broker.logs.some(line => line.limit === 'max-subscriptions' && line.clientId === 'collector'), 'logged with the client id')
})

test('max-queued-bytes: an offline session queues payload bytes up to the limit, drops and counts the rest, logs once, and gets what it kept in order', async context => {
  const broker = context.broker = await startBroker({ maxQueuedBytes: 1000 })
  const subscriber = await RawClient.connect(broker.port)
  await subscriber.handshake({ clientId: 'offline', clean: false })
  subscriber.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'bulk', qos: 1 }] })
  await subscriber.next('suback')
  subscriber.send({ cmd: 'disconnect' })
  await subscriber.closed
  await eventually(() => broker.broker.sessions.get('offline')?.online === false, 'the session to go offline')

  const publisher = await connectClient(broker.url, { clientId: 'bulk-publisher' })
  for (let index = 0; index < 6; index++) await publisher.publishAsync('bulk', `${index}`.padEnd(300, '.'), { qos: 1 })
  const session = broker.broker.sessions.get('offline')!
  assert.is(session.queue.length, 3, 'three 300-byte payloads fit in 1000 bytes')
  assert.is(session.queue.weight, 900)
  assert.is(broker.broker.counters.dropped['queue-bytes-full'], 3)
  assert.is(broker.broker.counters.limited['max-queued-bytes'], 3)
  const warnings = broker.logs.filter(line => line.limit === 'max-queued-bytes' && line.clientId === 'offline')
  assert.is(warnings.length, 1, 'logged once for the overflow, not per message')

  const back = await RawClient.connect(broker.port)
  back.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: false, clientId: 'offline', keepalive: 60 })
  const payloads: string[] = []
  for (let index = 0; index < 3; index++) {
    const publish = await back.next('publish')
    payloads.push(publish.payload.toString()[0]!)
    back.send({ cmd: 'puback', messageId: publish.messageId! })
  }
  assert.equal(payloads, ['0', '1', '2'])
  await quietFor(200)
  assert.is(back.received.filter(packet => packet.cmd === 'publish').length, 0, 'nothing beyond what was kept')
  await eventually(() => session.queue.weight === 0, 'the queue to empty')
})

test.run()
