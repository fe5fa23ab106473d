import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { connectClient, eventually, quietFor } from '../helpers/mqtt-clients.js'
import { acceptedV5, openV5, rawSubscribe, serverDisconnect, takePublishes } from '../helpers/mqtt5-clients.js'
import type { TestBroker } from '../helpers/test-broker.js'
import { brokerPerTest } from '../helpers/broker-per-test.js'

/**
 * MQTT 5 SUBSCRIBE and UNSUBSCRIBE over real TCP (MQTT 5.0 sections 3.3.1, 3.8-3.11, 4.7):
 * the subscription options No Local, Retain As Published and Retain Handling, and the
 * reason codes SUBACK and UNSUBACK carry.
 */
const test = suite<{ broker: TestBroker }>('mqtt5: subscribe')

brokerPerTest(test)

test('[MQTT-3.8.3-3] No Local: a client does not get its own messages back through that subscription, but gets everyone else\'s', async ({ broker }) => {
  const self = await openV5(broker, { clientId: 'narcissus' })
  await self.client.subscribeAsync('chat/room', { qos: 1, nl: true })
  const other = await openV5(broker, { clientId: 'echo' })
  await other.client.subscribeAsync('chat/room', { qos: 1 })
  await self.client.publishAsync('chat/room', 'from narcissus', { qos: 1 })
  await eventually(() => other.received.length === 1, 'the other subscriber to get it')
  const talker = await connectClient(broker.url, { protocolVersion: 5, clientId: 'talker' })
  await talker.publishAsync('chat/room', 'from talker', { qos: 1 })
  await eventually(() => self.received.length === 1, 'the message from someone else')
  await quietFor(200)
  assert.equal(self.received.map(message => message.payload), ['from talker'])
  assert.equal(other.received.map(message => message.payload), ['from narcissus', 'from talker'])
})

test('[MQTT-3.8.3-3] No Local applies per subscription: the client\'s own message still comes through an overlapping subscription without it, with that subscription\'s QoS and identifier only', async ({ broker }) => {
  const { client } = await acceptedV5(broker, { clientId: 'both-ways' })
  await rawSubscribe(client, [{ topic: 'loop/t', qos: 2, nl: true }], { subscriptionIdentifier: 1 }, 1)
  await rawSubscribe(client, [{ topic: 'loop/#', qos: 1 }], { subscriptionIdentifier: 2 }, 2)
  client.send({ cmd: 'publish', topic: 'loop/t', payload: Buffer.from('mine'), qos: 2, messageId: 10, retain: false, dup: false })
  const own = await client.next('publish')
  assert.is(own.payload.toString(), 'mine')
  assert.is(own.qos, 1, 'the QoS of the subscription without No Local')
  assert.is(own.properties?.subscriptionIdentifier, 2)
  client.send({ cmd: 'puback', messageId: own.messageId! })
  const publisher = await connectClient(broker.url, { protocolVersion: 5 })
  await publisher.publishAsync('loop/t', 'theirs', { qos: 2 })
  const theirs = await client.next('publish')
  assert.is(theirs.payload.toString(), 'theirs')
  assert.is(theirs.qos, 2, 'someone else\'s message: both subscriptions count')
  assert.equal([theirs.properties?.subscriptionIdentifier].flat().sort(), [1, 2])
  await quietFor(200)
  assert.equal(takePublishes(client), [], 'one delivery each')
})

test('[MQTT-3.3.1-12][MQTT-3.3.1-13] Retain As Published: 1 keeps the publisher\'s RETAIN flag on forwarded messages, 0 clears it', async ({ broker }) => {
  const keeps = await openV5(broker, { clientId: 'rap1' })
  await keeps.client.subscribeAsync('rap/t', { qos: 1, rap: true })
  const clears = await openV5(broker, { clientId: 'rap0' })
  await clears.client.subscribeAsync('rap/t', { qos: 1, rap: false })
  const publisher = await connectClient(broker.url, { protocolVersion: 5 })
  await publisher.publishAsync('rap/t', 'retained', { qos: 1, retain: true })
  await publisher.publishAsync('rap/t', 'plain', { qos: 1, retain: false })
  await eventually(() => keeps.received.length === 2 && clears.received.length === 2, 'two messages each')
  assert.equal(keeps.received.map(message => `${message.payload}:${String(message.retain)}`), ['retained:true', 'plain:false'])
  assert.equal(clears.received.map(message => `${message.payload}:${String(message.retain)}`), ['retained:false', 'plain:false'])
})

test('[MQTT-3.3.1-9][MQTT-3.8.4-3][MQTT-3.8.4-4] Retain Handling 0 sends the retained messages on every SUBSCRIBE, including one that replaces the subscription', async ({ broker }) => {
  const publisher = await connectClient(broker.url, { protocolVersion: 5 })
  await publisher.publishAsync('rh/lamp', 'on', { qos: 1, retain: true })
  const { client } = await acceptedV5(broker, { clientId: 'rh0' })
  await rawSubscribe(client, [{ topic: 'rh/+', qos: 1, rh: 0 }])
  const first = await client.next('publish')
  assert.is(first.retain, true)
  assert.is(first.payload.toString(), 'on')
  client.send({ cmd: 'puback', messageId: first.messageId! })
  await rawSubscribe(client, [{ topic: 'rh/+', qos: 1, rh: 0 }], undefined, 2)
  const again = await client.next('publish')
  assert.is(again.retain, true, 're-subscribing sends it again')
  client.send({ cmd: 'puback', messageId: again.messageId! })
  // The replaced subscription still delivers, once.
  await publisher.publishAsync('rh/lamp', 'off', { qos: 1 })
  const live = await client.next('publish')
  assert.is(live.payload.toString(), 'off')
  await quietFor(200)
  assert.equal(takePublishes(client), [])
})

test('[MQTT-3.3.1-10] Retain Handling 1 sends the retained messages only when the subscription is new', async ({ broker }) => {
  const publisher = await connectClient(broker.url, { protocolVersion: 5 })
  await publisher.publishAsync('rh1/lamp', 'on', { qos: 1, retain: true })
  const { client } = await acceptedV5(broker, { clientId: 'rh1' })
  await rawSubscribe(client, [{ topic: 'rh1/#', qos: 1, rh: 1 }])
  const first = await client.next('publish')
  assert.is(first.retain, true)
  client.send({ cmd: 'puback', messageId: first.messageId! })
  await rawSubscribe(client, [{ topic: 'rh1/#', qos: 1, rh: 1 }], undefined, 2)
  await quietFor(300)
  assert.equal(takePublishes(client), [], 'the subscription existed: nothing re-sent')
})

test('[MQTT-3.3.1-11] Retain Handling 2 never sends retained messages on SUBSCRIBE, but live messages flow', async ({ broker }) => {
  const publisher = await connectClient(broker.url, { protocolVersion: 5 })
  await publisher.publishAsync('rh2/lamp', 'on', { qos: 1, retain: true })
  const { client } = await acceptedV5(broker, { clientId: 'rh2' })
  await rawSubscribe(client, [{ topic: 'rh2/#', qos: 1, rh: 2 }])
  await quietFor(300)
  assert.equal(takePublishes(client), [])
  await publisher.publishAsync('rh2/lamp', 'off', { qos: 1 })
  const live = await client.next('publish')
  assert.is(live.payload.toString(), 'off')
  assert.is(live.retain, false)
})

test('[MQTT-3.8.4-1][MQTT-3.8.4-2][MQTT-2.2.1-6][MQTT-3.8.4-5][MQTT-3.8.4-6][MQTT-3.8.4-7][MQTT-3.9.3-1][MQTT-3.9.3-2][MQTT-4.7.1-1][MQTT-4.7.1-2][MQTT-4.7.3-1] one SUBACK per SUBSCRIBE with its packet id and one reason code per filter, in order: granted QoS or 0x8F for an invalid filter', async ({ broker }) => {
  const { client } = await acceptedV5(broker, { clientId: 'mixed-filters' })
  client.send({
    cmd: 'subscribe',
    messageId: 4242,
    subscriptions: [
      { topic: 'ok/+/q2', qos: 2 },
      { topic: 'bad/#/middle', qos: 1 },
      { topic: 'ok/q0', qos: 0 },
      { topic: 'bad+plus', qos: 0 },
      { topic: 'ok/q1/#', qos: 1 },
      { topic: 'bad/#x', qos: 1 },
      { topic: '+/+', qos: 1 },
      { topic: '', qos: 1 },
      { topic: '#', qos: 0 }
    ]
  })
  const suback = await client.next('suback')
  assert.is(suback.messageId, 4242)
  assert.equal(suback.granted, [2, 0x8f, 0, 0x8f, 1, 0x8f, 1, 0x8f, 0])
  assert.is(client.received.filter(packet => packet.cmd === 'suback').length, 0, 'one SUBACK')
  // The valid ones took effect; the connection stays open.
  const publisher = await connectClient(broker.url, { protocolVersion: 5 })
  await publisher.publishAsync('ok/x/q2', 'a', { qos: 2 })
  const message = await client.next('publish')
  assert.is(message.topic, 'ok/x/q2')
  assert.is(message.qos, 2)
})

test('[MQTT-3.8.4-8] the delivered QoS is the lower of the published QoS and the granted one', async ({ broker }) => {
  const { client } = await acceptedV5(broker, { clientId: 'downgrade' })
  await rawSubscribe(client, [{ topic: 'down/t', qos: 1 }])
  const publisher = await connectClient(broker.url, { protocolVersion: 5 })
  await publisher.publishAsync('down/t', 'q2', { qos: 2 })
  await publisher.publishAsync('down/t', 'q0', { qos: 0 })
  const first = await client.next('publish')
  const second = await client.next('publish')
  assert.equal([first, second].map(message => `${message.payload.toString()}@${message.qos}`), ['q2@1', 'q0@0'])
})

test('[MQTT-3.10.4-4][MQTT-3.10.4-5][MQTT-2.2.1-6][MQTT-3.10.4-6][MQTT-3.11.3-1][MQTT-3.11.3-2] UNSUBACK has the packet id and one reason code per filter in order: 0x00 removed, 0x11 no subscription existed', async ({ broker }) => {
  const { client } = await acceptedV5(broker, { clientId: 'unsub' })
  await rawSubscribe(client, [{ topic: 'u/a', qos: 1 }, { topic: 'u/b', qos: 1 }])
  client.send({ cmd: 'unsubscribe', messageId: 900, unsubscriptions: ['u/a', 'u/never', 'u/b', 'u/a'] })
  const unsuback = await client.next('unsuback')
  assert.is(unsuback.messageId, 900)
  assert.equal(unsuback.granted, [0x00, 0x11, 0x00, 0x11])
})

test('[MQTT-3.10.4-1][MQTT-3.10.4-2] UNSUBSCRIBE compares filters literally: "u/b" does not remove "u/+" (0x11); "u/+" does (0x00) and its messages stop', async ({ broker }) => {
  const { client } = await acceptedV5(broker, { clientId: 'literal' })
  await rawSubscribe(client, [{ topic: 'u/+', qos: 1 }])
  client.send({ cmd: 'unsubscribe', messageId: 2, unsubscriptions: ['u/b'] })
  assert.equal((await client.next('unsuback')).granted, [0x11])
  const publisher = await connectClient(broker.url, { protocolVersion: 5 })
  await publisher.publishAsync('u/b', 'still subscribed', { qos: 1 })
  const message = await client.next('publish')
  client.send({ cmd: 'puback', messageId: message.messageId! })
  client.send({ cmd: 'unsubscribe', messageId: 3, unsubscriptions: ['u/+'] })
  assert.equal((await client.next('unsuback')).granted, [0x00])
  await publisher.publishAsync('u/b', 'after unsubscribing', { qos: 1 })
  await quietFor(300)
  assert.equal(takePublishes(client), [])
})

test('[MQTT-3.10.4-3] a QoS 2 delivery under way when its subscription is removed is still completed', async ({ broker }) => {
  const { client } = await acceptedV5(broker, { clientId: 'unsub-inflight' })
  await rawSubscribe(client, [{ topic: 'inflight/t', qos: 2 }])
  const publisher = await connectClient(broker.url, { protocolVersion: 5 })
  await publisher.publishAsync('inflight/t', 'started', { qos: 2 })
  const started = await client.next('publish')
  client.send({ cmd: 'unsubscribe', messageId: 9, unsubscriptions: ['inflight/t'] })
  assert.equal((await client.next('unsuback')).granted, [0])
  client.send({ cmd: 'pubrec', messageId: started.messageId! })
  const pubrel = await client.next('pubrel')
  assert.is(pubrel.messageId, started.messageId)
  assert.ok((pubrel.reasonCode ?? 0) === 0, 'the broker still knows the delivery')
  client.send({ cmd: 'pubcomp', messageId: started.messageId! })
  await publisher.publishAsync('inflight/t', 'after', { qos: 2 })
  await quietFor(200)
  assert.equal(takePublishes(client), [], 'no new messages through the removed subscription')
})

test('[MQTT-3.3.1-5][MQTT-3.3.1-6][MQTT-3.3.1-7][MQTT-3.3.1-8] retained messages over v5: RETAIN 1 replaces, RETAIN 0 leaves the stored one alone, an empty RETAIN 1 is forwarded and clears it', async ({ broker }) => {
  const live = await openV5(broker, { clientId: 'retain-live' })
  await live.client.subscribeAsync('retain5/lamp', { qos: 1, rap: true })
  const publisher = await connectClient(broker.url, { protocolVersion: 5 })
  const later = async (clientId: string): Promise<string[]> => {
    const { client } = await acceptedV5(broker, { clientId })
    await rawSubscribe(client, [{ topic: 'retain5/#', qos: 1 }])
    await quietFor(200)
    return takePublishes(client).map(packet => `${packet.payload.toString()}:${String(packet.retain)}`)
  }
  await publisher.publishAsync('retain5/lamp', 'on', { qos: 1, retain: true })
  await publisher.publishAsync('retain5/lamp', 'dimmed', { qos: 1, retain: true })
  assert.equal(await later('later-1'), ['dimmed:true'], 'the newer retained message replaced the older')
  await publisher.publishAsync('retain5/lamp', 'flicker', { qos: 1, retain: false })
  assert.equal(await later('later-2'), ['dimmed:true'], 'RETAIN 0 neither stored nor removed anything')
  await publisher.publishAsync('retain5/lamp', '', { qos: 1, retain: true })
  assert.equal(await later('later-3'), [], 'the empty retained message cleared it and was not stored')
  await eventually(() => live.received.length === 4, 'all four live messages')
  assert.equal(live.received.map(message => `${message.payload}:${String(message.retain)}`), ['on:true', 'dimmed:true', 'flicker:false', ':true'])
})

test('[MQTT-4.7.2-1] filters starting with a wildcard do not match topics starting with $', async ({ broker }) => {
  const { client } = await acceptedV5(broker, { clientId: 'dollar' })
  await rawSubscribe(client, [{ topic: '#', qos: 1 }, { topic: '+/status', qos: 1 }, { topic: '$app/status', qos: 1 }], undefined, 1)
  const publisher = await connectClient(broker.url, { protocolVersion: 5 })
  await publisher.publishAsync('$app/status', 'dollar', { qos: 1 })
  const message = await client.next('publish')
  assert.is(message.topic, '$app/status')
  await quietFor(200)
  assert.equal(takePublishes(client), [], 'delivered once, through the explicit $ filter only')
})

test('Subscription Identifier 0 in SUBSCRIBE is a Protocol Error: DISCONNECT 0x82', async ({ broker }) => {
  const { client } = await acceptedV5(broker, { clientId: 'sub-id-zero' })
  client.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'a/b', qos: 0 }], properties: { subscriptionIdentifier: 0 } })
  await serverDisconnect(client, 0x82)
  assert.is(broker.broker.router.subscriptionCount, 0, 'nothing was subscribed')
})

test('[MQTT-3.12.4-1] PINGREQ gets PINGRESP on a v5 connection', async ({ broker }) => {
  const { client } = await acceptedV5(broker, { clientId: 'pinger5' })
  client.send({ cmd: 'pingreq' })
  await client.next('pingresp')
})

test.run()
