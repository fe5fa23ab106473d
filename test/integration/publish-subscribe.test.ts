import type { Packet } from 'mqtt-packet'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { closeAllClients, collect, connectClient, eventually, quietFor } from '../helpers/mqtt-clients.js'
import { RawClient } from '../helpers/raw-client.js'
import { startBroker, type TestBroker } from '../helpers/test-broker.js'
import { assertStillServing } from '../helpers/still-serving.js'

const test = suite<{ broker: TestBroker }>('publish and subscribe (MQTT 3.1.1)')

test.before.each(async context => { context.broker = await startBroker() })
test.after.each(async context => {
  RawClient.closeAll()
  await closeAllClients()
  await context.broker.close()
})

type Publish = Extract<Packet, { cmd: 'publish' }>

async function rawSubscriber (port: number, filters: Array<[string, 0 | 1 | 2]>, clientId = 'sub'): Promise<RawClient> {
  const client = await RawClient.connect(port)
  await client.handshake({ clientId })
  client.send({ cmd: 'subscribe', messageId: 1, subscriptions: filters.map(([topic, qos]) => ({ topic, qos })) })
  await client.next('suback')
  return client
}

const publish = (topic: string, payload: string, qos: 0 | 1 | 2, messageId?: number, retain = false): Packet =>
  ({ cmd: 'publish', topic, payload: Buffer.from(payload), qos, retain, dup: false, ...(messageId !== undefined ? { messageId } : {}) }) as Packet

test('[MQTT-3.3.4-1] [MQTT-2.3.1-6] the broker answers QoS 0 with nothing, 1 with PUBACK, 2 with PUBREC, each with the packet id', async ({ broker }) => {
  const client = await RawClient.connect(broker.port)
  await client.handshake({ clientId: 'p' })
  client.send(publish('t', 'zero', 0))
  client.send(publish('t', 'one', 1, 11))
  client.send(publish('t', 'two', 2, 12))
  assert.is((await client.next('puback')).messageId, 11)
  assert.is((await client.next('pubrec')).messageId, 12)
  client.send({ cmd: 'pubrel', messageId: 12 })
  assert.is((await client.next('pubcomp')).messageId, 12)
  await quietFor(100)
  assert.equal(client.received.map(p => p.cmd), [], 'nothing answers the QoS 0 PUBLISH')
})

test('[MQTT-3.8.4-6] [MQTT-4.3.1-1] [MQTT-2.3.1-5] [MQTT-3.3.1-2] delivery QoS is min(published, granted); QoS 0 has no packet id and DUP 0', async ({ broker }) => {
  const subscriber = await rawSubscriber(broker.port, [['q/0', 0], ['q/1', 1], ['q/2', 2]])
  const publisher = await connectClient(broker.url)
  await publisher.publishAsync('q/0', 'a', { qos: 2 })
  await publisher.publishAsync('q/1', 'b', { qos: 2 })
  await publisher.publishAsync('q/2', 'c', { qos: 1 })
  const got: Publish[] = []
  for (let i = 0; i < 3; i++) got.push(await subscriber.next('publish'))
  const byTopic = Object.fromEntries(got.map(p => [p.topic, p]))
  assert.is(byTopic['q/0']!.qos, 0)
  assert.is(byTopic['q/0']!.messageId, undefined)
  assert.is(byTopic['q/0']!.dup, false)
  assert.is(byTopic['q/1']!.qos, 1)
  assert.is(byTopic['q/2']!.qos, 1)
})

test('[MQTT-3.3.5-1] overlapping subscriptions deliver one copy at the highest granted QoS', async ({ broker }) => {
  const subscriber = await rawSubscriber(broker.port, [['o/+', 0], ['o/#', 2], ['o/x', 1]])
  const publisher = await connectClient(broker.url)
  await publisher.publishAsync('o/x', 'once', { qos: 2 })
  const message = await subscriber.next('publish')
  assert.is(message.qos, 2)
  await quietFor(150)
  assert.is(subscriber.received.filter(p => p.cmd === 'publish').length, 0, 'no second copy')
})

test('[MQTT-4.3.2-1] [MQTT-2.3.1-4] outbound QoS 1 uses distinct non-zero packet ids and stays inflight until PUBACK', async ({ broker }) => {
  const subscriber = await rawSubscriber(broker.port, [['w', 1]])
  const publisher = await connectClient(broker.url)
  for (let i = 0; i < 5; i++) await publisher.publishAsync('w', `m${i}`, { qos: 1 })
  const ids: number[] = []
  for (let i = 0; i < 5; i++) {
    const p = await subscriber.next('publish')
    assert.is(p.qos, 1)
    assert.is(p.dup, false)
    ids.push(p.messageId!)
  }
  assert.is(new Set(ids).size, 5)
  assert.not.ok(ids.includes(0))
  const session = broker.broker.sessions.get('sub')!
  assert.is(session.inflight.size, 5)
  for (const id of ids) subscriber.send({ cmd: 'puback', messageId: id })
  await eventually(() => session.inflight.size === 0, 'PUBACKs to free the window')
})

test('[MQTT-4.3.3-1] outbound QoS 2: PUBLISH, PUBREC, PUBREL with the same id, PUBCOMP', async ({ broker }) => {
  const subscriber = await rawSubscriber(broker.port, [['e', 2]])
  const publisher = await connectClient(broker.url)
  await publisher.publishAsync('e', 'exactly once', { qos: 2 })
  const p = await subscriber.next('publish')
  assert.is(p.qos, 2)
  subscriber.send({ cmd: 'pubrec', messageId: p.messageId! })
  assert.is((await subscriber.next('pubrel')).messageId, p.messageId)
  subscriber.send({ cmd: 'pubcomp', messageId: p.messageId! })
  const session = broker.broker.sessions.get('sub')!
  await eventually(() => session.inflight.size === 0, 'PUBCOMP to complete the flow')
  await quietFor(100)
  assert.is(subscriber.received.filter(x => x.cmd === 'publish').length, 0, 'no PUBLISH re-sent after PUBREL')
})

test('[MQTT-4.3.3-2] a QoS 2 PUBLISH re-sent before PUBREL reaches subscribers once', async ({ broker }) => {
  const subscriber = await connectClient(broker.url)
  await subscriber.subscribeAsync('dup', { qos: 2 })
  const received = collect(subscriber)
  const client = await RawClient.connect(broker.port)
  await client.handshake({ clientId: 'pub2' })
  client.send(publish('dup', 'x', 2, 5))
  await client.next('pubrec')
  client.send({ ...publish('dup', 'x', 2, 5), dup: true } as Packet)
  await client.next('pubrec')
  client.send({ cmd: 'pubrel', messageId: 5 })
  await client.next('pubcomp')
  await eventually(() => received.length >= 1, 'the message')
  await quietFor(150)
  assert.is(received.length, 1)
})

test('[MQTT-4.3.2-2] after PUBACK the same packet id is a new publication', async ({ broker }) => {
  const subscriber = await connectClient(broker.url)
  await subscriber.subscribeAsync('reuse', { qos: 1 })
  const received = collect(subscriber)
  const client = await RawClient.connect(broker.port)
  await client.handshake({ clientId: 'reuser' })
  client.send(publish('reuse', 'first', 1, 5))
  await client.next('puback')
  client.send(publish('reuse', 'second', 1, 5))
  await client.next('puback')
  await eventually(() => received.length === 2, 'both publications')
  assert.equal(received.map(m => m.payload), ['first', 'second'])
})

test('[MQTT-3.3.1-3] DUP from a publisher is not passed on to subscribers', async ({ broker }) => {
  const subscriber = await rawSubscriber(broker.port, [['d', 1]])
  const client = await RawClient.connect(broker.port)
  await client.handshake({ clientId: 'dupper' })
  client.send({ ...publish('d', 'again', 1, 3), dup: true } as Packet)
  const p = await subscriber.next('publish')
  assert.is(p.dup, false)
})

test('[MQTT-3.3.1-9] [MQTT-3.3.2-3] forwarded messages carry RETAIN 0 and the topic that matched', async ({ broker }) => {
  const subscriber = await rawSubscriber(broker.port, [['live/#', 0]])
  const publisher = await connectClient(broker.url)
  await publisher.publishAsync('live/x', 'v', { retain: true })
  const p = await subscriber.next('publish')
  assert.is(p.retain, false)
  assert.is(p.topic, 'live/x')
})

test('[MQTT-3.3.1-5] [MQTT-3.3.1-6] [MQTT-3.3.1-8] a later subscriber gets the latest retained message per topic with RETAIN 1 and its QoS', async ({ broker }) => {
  const publisher = await connectClient(broker.url)
  await publisher.publishAsync('r/a', 'old', { retain: true, qos: 1 })
  await publisher.publishAsync('r/a', 'new', { retain: true, qos: 1 })
  await publisher.publishAsync('r/b', 'b', { retain: true, qos: 0 })
  await eventually(() => broker.broker.router.retainedCount === 2, 'both retained messages stored')
  const subscriber = await rawSubscriber(broker.port, [['r/+', 2]])
  const got = [await subscriber.next('publish'), await subscriber.next('publish')].sort((x, y) => x.topic.localeCompare(y.topic))
  assert.equal(got.map(p => [p.topic, p.payload.toString(), p.retain, p.qos]), [['r/a', 'new', true, 1], ['r/b', 'b', true, 0]])
})

test('[MQTT-3.3.1-10] [MQTT-3.3.1-11] an empty retained payload is forwarded and clears the retained message', async ({ broker }) => {
  const publisher = await connectClient(broker.url)
  await publisher.publishAsync('gone', 'here', { retain: true })
  await eventually(() => broker.broker.router.retainedCount === 1, 'the retained message stored')
  const live = await rawSubscriber(broker.port, [['gone', 0]], 'live')
  await live.next('publish')
  await publisher.publishAsync('gone', '', { retain: true })
  const forwarded = await live.next('publish')
  assert.is(forwarded.payload.length, 0)
  const later = await rawSubscriber(broker.port, [['gone', 0]], 'later')
  await quietFor(150)
  assert.is(later.received.filter(p => p.cmd === 'publish').length, 0)
  assert.is(broker.broker.router.retainedCount, 0)
})

test('[MQTT-3.3.1-12] [MQTT-3.3.1-7] RETAIN 0 leaves the retained message alone; a retained QoS 0 replaces it', async ({ broker }) => {
  const publisher = await connectClient(broker.url)
  await publisher.publishAsync('keep', 'retained', { retain: true, qos: 1 })
  await publisher.publishAsync('keep', 'not retained', { retain: false })
  const first = await rawSubscriber(broker.port, [['keep', 1]], 'first')
  assert.is((await first.next('publish')).payload.toString(), 'retained')
  await publisher.publishAsync('keep', 'qos0 retained', { retain: true, qos: 0 })
  // QoS 0 has no acknowledgement: wait until the broker has taken it before subscribing.
  await eventually(() => broker.broker.router.retainedFor('keep')[0]?.payload.toString() === 'qos0 retained', 'the QoS 0 retained message')
  const second = await rawSubscriber(broker.port, [['keep', 1]], 'second')
  const p = await second.next('publish')
  assert.is(p.payload.toString(), 'qos0 retained')
  assert.is(p.qos, 0)
})

test('[MQTT-3.8.4-3] subscribing again to the same filter replaces it and re-sends retained messages', async ({ broker }) => {
  const publisher = await connectClient(broker.url)
  await publisher.publishAsync('again', 'r', { retain: true, qos: 1 })
  const subscriber = await rawSubscriber(broker.port, [['again', 0]])
  assert.is((await subscriber.next('publish')).qos, 0)
  subscriber.send({ cmd: 'subscribe', messageId: 2, subscriptions: [{ topic: 'again', qos: 1 }] })
  assert.equal((await subscriber.next('suback')).granted, [1])
  assert.is((await subscriber.next('publish')).qos, 1)
  assert.is(broker.broker.router.subscriptionCount, 1)
})

test('[MQTT-3.8.4-1] [MQTT-3.8.4-2] [MQTT-3.8.4-4] [MQTT-3.8.4-5] [MQTT-3.9.3-1] [MQTT-3.9.3-2] [MQTT-2.3.1-7] one SUBACK per SUBSCRIBE, same id, one code per filter in order', async ({ broker }) => {
  const client = await RawClient.connect(broker.port)
  await client.handshake({ clientId: 'multi' })
  client.send({ cmd: 'subscribe', messageId: 42, subscriptions: [{ topic: 'x/#', qos: 1 }, { topic: 'bad/#/x', qos: 0 }, { topic: 'y', qos: 2 }, { topic: 'z/+', qos: 0 }] })
  const suback = await client.next('suback')
  assert.is(suback.messageId, 42)
  assert.equal(suback.granted, [1, 0x80, 2, 0])
})

test('[MQTT-3.10.4-1] [MQTT-3.10.4-2] [MQTT-3.10.4-4] [MQTT-3.10.4-5] [MQTT-3.10.4-6] UNSUBSCRIBE removes exact filters only and always gets an UNSUBACK with its id', async ({ broker }) => {
  const subscriber = await rawSubscriber(broker.port, [['u/+', 0], ['u/a', 0]])
  subscriber.send({ cmd: 'unsubscribe', messageId: 7, unsubscriptions: ['u/#', 'u/a', 'never/was'] })
  assert.is((await subscriber.next('unsuback')).messageId, 7)
  const publisher = await connectClient(broker.url)
  await publisher.publishAsync('u/a', 'still via u/+')
  const p = await subscriber.next('publish')
  assert.is(p.topic, 'u/a')
  subscriber.send({ cmd: 'unsubscribe', messageId: 8, unsubscriptions: ['u/+'] })
  await subscriber.next('unsuback')
  await publisher.publishAsync('u/a', 'nobody')
  await quietFor(150)
  assert.is(subscriber.received.filter(x => x.cmd === 'publish').length, 0)
})

test('[MQTT-3.10.4-3] QoS 1 messages already inflight are still completed after UNSUBSCRIBE', async ({ broker }) => {
  const subscriber = await rawSubscriber(broker.port, [['f', 1]])
  const publisher = await connectClient(broker.url)
  await publisher.publishAsync('f', 'inflight', { qos: 1 })
  const p = await subscriber.next('publish')
  subscriber.send({ cmd: 'unsubscribe', messageId: 9, unsubscriptions: ['f'] })
  await subscriber.next('unsuback')
  const session = broker.broker.sessions.get('sub')!
  assert.is(session.inflight.size, 1)
  subscriber.send({ cmd: 'puback', messageId: p.messageId! })
  await eventually(() => session.inflight.size === 0, 'the PUBACK to complete the inflight message')
})

test('[MQTT-4.5.0-1] [MQTT-4.6.0-5] [MQTT-4.6.0-6] every matching client gets the message, in publish order per topic', async ({ broker }) => {
  const a = await connectClient(broker.url, { clientId: 'a' })
  const b = await connectClient(broker.url, { clientId: 'b' })
  await a.subscribeAsync('ordered/#', { qos: 1 })
  await b.subscribeAsync('ordered/t', { qos: 0 })
  const fromA = collect(a)
  const fromB = collect(b)
  const publisher = await connectClient(broker.url)
  const payloads = Array.from({ length: 200 }, (_, i) => String(i))
  await Promise.all(payloads.map(async (payload, i) => await publisher.publishAsync('ordered/t', payload, { qos: (i % 2) as 0 | 1 })))
  await eventually(() => fromA.length === 200 && fromB.length === 200, 'all 200 messages at both subscribers')
  assert.equal(fromA.filter(m => m.qos === 1).map(m => m.payload), payloads.filter((_, i) => i % 2 === 1), 'QoS 1 in order')
  assert.equal(fromB.map(m => m.payload), payloads, 'QoS 0 subscriber in order')
})

// Clients may not publish on $SYS (it is the broker's), so another $ topic stands in for it.
test('[MQTT-4.7.2-1] # and + subscriptions do not receive $ topics; $app/# does', async ({ broker }) => {
  const everything = await rawSubscriber(broker.port, [['#', 0], ['+/x', 0]], 'all')
  const dollar = await rawSubscriber(broker.port, [['$app/#', 0]], 'dollar')
  const publisher = await RawClient.connect(broker.port)
  await publisher.handshake({ clientId: 'p' })
  publisher.send(publish('$app/x', 'dollar', 0))
  assert.is((await dollar.next('publish')).topic, '$app/x')
  await quietFor(150)
  assert.is(everything.received.filter(p => p.cmd === 'publish').length, 0)
})

test('[MQTT-4.7.3-4] matching is exact: case and trailing separators matter', async ({ broker }) => {
  const subscriber = await rawSubscriber(broker.port, [['Case/Topic', 0]])
  const publisher = await connectClient(broker.url)
  await publisher.publishAsync('case/topic', 'lower')
  await publisher.publishAsync('Case/Topic/', 'trailing')
  await publisher.publishAsync('Case/Topic', 'exact')
  assert.is((await subscriber.next('publish')).payload.toString(), 'exact')
  await quietFor(100)
  assert.is(subscriber.received.filter(p => p.cmd === 'publish').length, 0)
})

for (const [name, bytes, id] of [
  ['PUBLISH with QoS 3', [0x36, 0x05, 0x00, 0x01, 0x74, 0x00, 0x01], '[MQTT-3.3.1-4]'],
  ['PUBREL with flags 0000', [0x60, 0x02, 0x00, 0x01], '[MQTT-3.6.1-1]'],
  ['SUBSCRIBE with flags 0000', [0x80, 0x06, 0x00, 0x01, 0x00, 0x01, 0x74, 0x00], '[MQTT-3.8.1-1]'],
  ['UNSUBSCRIBE with flags 0000', [0xa0, 0x05, 0x00, 0x01, 0x00, 0x01, 0x74], '[MQTT-3.10.1-1]'],
  ['SUBSCRIBE asking for QoS 3', [0x82, 0x06, 0x00, 0x01, 0x00, 0x01, 0x74, 0x03], '[MQTT-3.8.3-4]'],
  ['SUBSCRIBE with reserved option bits set', [0x82, 0x06, 0x00, 0x01, 0x00, 0x01, 0x74, 0x40], '[MQTT-3.8.3-4]'],
  ['PINGREQ with flags 0001', [0xc1, 0x00], '[MQTT-2.2.2-1] [MQTT-2.2.2-2]'],
  ['DISCONNECT with flags 0001', [0xe1, 0x00], '[MQTT-3.14.1-1]'],
  ['PUBLISH whose topic is not UTF-8', [0x30, 0x05, 0x00, 0x02, 0xc3, 0x28, 0x78], '[MQTT-3.3.2-1] [MQTT-1.5.3-1]']
] as Array<[string, number[], string]>) {
  test(`${id} ${name} closes the connection and the broker keeps serving`, async ({ broker }) => {
    const client = await RawClient.connect(broker.port)
    await client.handshake({ clientId: 'bad' })
    client.sendBytes(bytes)
    assert.ok(await client.closesWithin(2000), 'connection closed')
    await assertStillServing(broker)
  })
}

test('[MQTT-3.3.2-2] [MQTT-4.7.1-1] PUBLISH to a topic with a wildcard closes the connection', async ({ broker }) => {
  const client = await RawClient.connect(broker.port)
  await client.handshake({ clientId: 'wild' })
  client.send(publish('a/+', 'x', 0))
  assert.ok(await client.closesWithin(2000))
  await assertStillServing(broker)
})

test('[MQTT-2.3.1-1] QoS 1 PUBLISH, SUBSCRIBE and UNSUBSCRIBE with packet id 0 close the connection', async ({ broker }) => {
  for (const bytes of [
    [0x32, 0x06, 0x00, 0x01, 0x74, 0x00, 0x00, 0x78],
    [0x82, 0x06, 0x00, 0x00, 0x00, 0x01, 0x74, 0x00],
    [0xa2, 0x05, 0x00, 0x00, 0x00, 0x01, 0x74]
  ]) {
    const client = await RawClient.connect(broker.port)
    await client.handshake({ clientId: 'zero' })
    client.sendBytes(bytes)
    assert.ok(await client.closesWithin(2000), `closed after ${Buffer.from(bytes).toString('hex')}`)
  }
  await assertStillServing(broker)
})

test('[MQTT-4.7.3-1] [MQTT-4.7.3-2] an empty topic or one with U+0000 in PUBLISH closes the connection', async ({ broker }) => {
  for (const bytes of [
    [0x30, 0x03, 0x00, 0x00, 0x78],
    [0x30, 0x06, 0x00, 0x03, 0x61, 0x00, 0x62, 0x78]
  ]) {
    const client = await RawClient.connect(broker.port)
    await client.handshake({ clientId: 'topics' })
    client.sendBytes(bytes)
    assert.ok(await client.closesWithin(2000), `closed after ${Buffer.from(bytes).toString('hex')}`)
  }
  await assertStillServing(broker)
})

test('[MQTT-4.7.3-3] a topic of 65535 bytes is carried end to end', async ({ broker }) => {
  const topic = 'x'.repeat(65535)
  const subscriber = await connectClient(broker.url)
  await subscriber.subscribeAsync(topic)
  const received = collect(subscriber)
  const publisher = await connectClient(broker.url)
  await publisher.publishAsync(topic, 'long')
  await eventually(() => received.length === 1, 'the message on the longest topic')
  assert.is(received[0]!.topic.length, 65535)
})

test('[MQTT-3.8.3-2] wildcard subscriptions are supported and granted', async ({ broker }) => {
  const client = await RawClient.connect(broker.port)
  await client.handshake({ clientId: 'wild-sub' })
  client.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: '+/+/#', qos: 1 }] })
  assert.equal((await client.next('suback')).granted, [1])
})

test.run()
