import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { closeAllClients, collect, connectClient, eventually, quietFor } from '../helpers/mqtt-clients.js'
import { RawClient } from '../helpers/raw-client.js'
import { startBroker, type TestBroker } from '../helpers/test-broker.js'

const test = suite<{ broker: TestBroker }>('MQTT 5 shared subscriptions')

test.before.each(async context => { context.broker = await startBroker() })
test.after.each(async context => {
  RawClient.closeAll()
  await closeAllClients()
  await context.broker.close()
})

const v5 = { protocolVersion: 5 as const }

test('[MQTT-4.8.2-3] each message goes to one member of the group, shared out between them, at the member\'s granted QoS', async ({ broker }) => {
  const a = await connectClient(broker.url, { ...v5, clientId: 'a' })
  const b = await connectClient(broker.url, { ...v5, clientId: 'b' })
  await a.subscribeAsync('$share/workers/jobs/+', { qos: 1 })
  await b.subscribeAsync('$share/workers/jobs/+', { qos: 0 })
  const atA = collect(a)
  const atB = collect(b)
  const publisher = await connectClient(broker.url, v5)
  for (let i = 0; i < 20; i++) await publisher.publishAsync(`jobs/${i}`, String(i), { qos: 1 })
  await eventually(() => atA.length + atB.length === 20, 'all 20 jobs delivered')
  await quietFor(100)
  assert.is(atA.length + atB.length, 20, 'no message went to both')
  assert.ok(atA.length >= 5 && atB.length >= 5, `both members got work (${atA.length}/${atB.length})`)
  assert.ok(atA.every(m => m.qos === 1) && atB.every(m => m.qos === 0))
})

test('a member\'s own ordinary subscription still gets its copy, and other groups get theirs', async ({ broker }) => {
  const a = await connectClient(broker.url, { ...v5, clientId: 'a' })
  await a.subscribeAsync(['$share/g1/t', 't'])
  const other = await connectClient(broker.url, { ...v5, clientId: 'other' })
  await other.subscribeAsync('$share/g2/t')
  const atA = collect(a)
  const atOther = collect(other)
  const publisher = await connectClient(broker.url, v5)
  await publisher.publishAsync('t', 'x', { qos: 1 })
  await eventually(() => atA.length === 2 && atOther.length === 1, 'one copy per group plus the ordinary subscription')
})

test('MQTT 3.1.1 clients can join shared subscriptions too', async ({ broker }) => {
  const a = await connectClient(broker.url, { clientId: 'v3a' })
  const b = await connectClient(broker.url, { clientId: 'v3b' })
  await a.subscribeAsync('$share/g/v3/topic')
  await b.subscribeAsync('$share/g/v3/topic')
  const received = [collect(a), collect(b)]
  const publisher = await connectClient(broker.url)
  for (let i = 0; i < 10; i++) await publisher.publishAsync('v3/topic', String(i), { qos: 1 })
  await eventually(() => received[0]!.length + received[1]!.length === 10, 'ten messages across the group')
})

test('messages queued for a member that leaves the group go to another member', async ({ broker }) => {
  const stuck = await RawClient.connect(broker.port, 5)
  await stuck.handshake({ protocolVersion: 5, clientId: 'stuck', properties: { receiveMaximum: 1 } })
  stuck.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: '$share/g/work', qos: 1 }] })
  await stuck.next('suback')
  const publisher = await connectClient(broker.url, v5)
  // Alone in the group, 'stuck' gets the first message in flight and queues the rest.
  for (let i = 0; i < 5; i++) await publisher.publishAsync('work', String(i), { qos: 1 })
  await eventually(() => broker.broker.sessions.get('stuck')?.queue.length === 4, 'four messages queued behind a window of one')
  const helper = await connectClient(broker.url, { ...v5, clientId: 'helper' })
  await helper.subscribeAsync('$share/g/work', { qos: 1 })
  const atHelper = collect(helper)
  stuck.send({ cmd: 'unsubscribe', messageId: 2, unsubscriptions: ['$share/g/work'] })
  await stuck.next('unsuback')
  await eventually(() => atHelper.length === 4, 'the four queued messages handed to the other member')
  assert.equal(atHelper.map(m => m.payload), ['1', '2', '3', '4'])
})

test('[MQTT-4.8.2-5] when a member\'s session ends, its queued and unacknowledged QoS 1 messages go to another member', async ({ broker }) => {
  const leaving = await RawClient.connect(broker.port, 5)
  await leaving.handshake({ protocolVersion: 5, clientId: 'leaving', properties: { receiveMaximum: 1 } })
  leaving.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: '$share/g/q', qos: 1 }] })
  await leaving.next('suback')
  const publisher = await connectClient(broker.url, v5)
  for (let i = 0; i < 3; i++) await publisher.publishAsync('q', String(i), { qos: 1 })
  await leaving.next('publish')
  const stays = await connectClient(broker.url, { ...v5, clientId: 'stays' })
  await stays.subscribeAsync('$share/g/q', { qos: 1 })
  const atStays = collect(stays)
  leaving.end() // session expiry 0: the session ends with the connection
  await eventually(() => atStays.length === 3, 'the message in flight and the two queued ones')
  assert.equal(atStays.map(m => m.payload).sort(), ['0', '1', '2'])
})

test('[MQTT-4.8.2-4] a shared QoS 2 delivery cut by a disconnect is completed with the same member when it reconnects', async ({ broker }) => {
  const member = await RawClient.connect(broker.port, 5)
  await member.handshake({ protocolVersion: 5, clientId: 'q2', clean: true, properties: { sessionExpiryInterval: 60 } })
  member.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: '$share/g/exactly', qos: 2 }] })
  await member.next('suback')
  const other = await connectClient(broker.url, { ...v5, clientId: 'other' })
  await other.subscribeAsync('$share/g/exactly', { qos: 2 })
  const atOther = collect(other)
  const publisher = await connectClient(broker.url, v5)
  // Publish until the member (not the other) is chosen, then drop its connection mid-flow.
  let first
  for (let i = 0; first === undefined && i < 4; i++) {
    await publisher.publishAsync('exactly', `m${i}`, { qos: 2 })
    first = await member.next('publish', 300).catch(() => undefined)
  }
  assert.ok(first !== undefined, 'the member was chosen for one of the messages')
  member.end()
  const back = await RawClient.connect(broker.port, 5)
  await back.handshake({ protocolVersion: 5, clientId: 'q2', clean: false, properties: { sessionExpiryInterval: 60 } })
  const again = await back.next('publish')
  assert.is(again.payload.toString(), first.payload.toString())
  assert.is(again.dup, true)
  assert.not.ok(atOther.some(m => m.payload === first!.payload.toString()), 'not sent to the other member as well')
})

test('[MQTT-4.8.2-6] a member refusing a shared message with PUBACK 0x80 or more: it is discarded, not tried on another member', async ({ broker }) => {
  const refuser = await RawClient.connect(broker.port, 5)
  await refuser.handshake({ protocolVersion: 5, clientId: 'refuser' })
  refuser.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: '$share/g/refused', qos: 1 }] })
  await refuser.next('suback')
  const publisher = await connectClient(broker.url, v5)
  await publisher.publishAsync('refused', 'no thanks', { qos: 1 })
  const delivered = await refuser.next('publish')
  const other = await connectClient(broker.url, { ...v5, clientId: 'other' })
  await other.subscribeAsync('$share/g/refused', { qos: 1 })
  const atOther = collect(other)
  refuser.send({ cmd: 'puback', messageId: delivered.messageId!, reasonCode: 0x80 })
  await eventually(() => broker.broker.sessions.get('refuser')?.inflight.size === 0, 'the refused message to leave the window')
  await quietFor(200)
  assert.is(atOther.length, 0)
})

test('retained messages are not sent to a new shared subscription', async ({ broker }) => {
  const publisher = await connectClient(broker.url, v5)
  await publisher.publishAsync('kept', 'retained', { retain: true, qos: 1 })
  const member = await connectClient(broker.url, v5)
  await member.subscribeAsync('$share/g/kept')
  const received = collect(member)
  await quietFor(200)
  assert.is(received.length, 0)
})

test('[MQTT-4.8.2-1] [MQTT-4.8.2-2] a share name that is empty, has a wildcard or no filter after it is refused with 0x8F', async ({ broker }) => {
  const client = await RawClient.connect(broker.port, 5)
  await client.handshake({ protocolVersion: 5, clientId: 'bad-share' })
  client.send({ cmd: 'subscribe', messageId: 3, subscriptions: [{ topic: '$share//t', qos: 0 }, { topic: '$share/a+/t', qos: 0 }, { topic: '$share/name', qos: 0 }, { topic: '$share/ok/t', qos: 0 }] })
  const suback = await client.next('suback')
  assert.equal(suback.granted, [0x8f, 0x8f, 0x8f, 0])
})

test('[MQTT-3.8.3-4] No Local on a shared subscription is a protocol error: DISCONNECT 0x82', async ({ broker }) => {
  const client = await RawClient.connect(broker.port, 5)
  await client.handshake({ protocolVersion: 5, clientId: 'nl' })
  client.send({ cmd: 'subscribe', messageId: 4, subscriptions: [{ topic: '$share/g/t', qos: 0, nl: true }] })
  const disconnect = await client.next('disconnect')
  assert.is(disconnect.reasonCode, 0x82)
  assert.ok(await client.closesWithin(2000))
})

test('CONNACK says shared subscriptions are available', async ({ broker }) => {
  const client = await RawClient.connect(broker.port, 5)
  const connack = await client.handshake({ protocolVersion: 5, clientId: 'ask' })
  assert.is(connack.properties?.sharedSubscriptionAvailable, true)
})

test.run()
