import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { connectClient, eventually, quietFor } from '../helpers/mqtt-clients.js'
import { acceptedV5, openV5, rawSubscribe, serverDisconnect, takePublishes } from '../helpers/mqtt5-clients.js'
import { property, propertySection, propertyValue, publishBytes, WireClient } from '../helpers/mqtt5-wire.js'
import { type TestBroker } from '../helpers/test-broker.js'
import { brokerPerTest } from '../helpers/broker-per-test.js'

/**
 * MQTT 5 PUBLISH over real TCP (MQTT 5.0 sections 3.3-3.7, 4.3, 4.4): the properties the
 * broker forwards and how, Message Expiry, Subscription Identifiers on delivery, topic
 * aliases both ways, request/response, and the reason codes on acknowledgements.
 */
const test = suite<{ broker: TestBroker }>('mqtt5: publish')

const brokerWith = brokerPerTest(test)

/** A WireClient connected (v5) and subscribed to `filter`. */
async function wireSubscriber (broker: TestBroker, clientId: string, filter: string, connectProperties: Record<string, number> = {}): Promise<WireClient> {
  const client = await WireClient.connect(broker.port)
  client.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clean: true, clientId, keepalive: 60, properties: connectProperties })
  client.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: filter, qos: 1 }] })
  await client.waitFor(() => client.packets.find(packet => packet.cmd === 'suback'), 'SUBACK')
  return client
}

async function offline (broker: TestBroker, clientId: string): Promise<void> {
  await eventually(() => broker.broker.sessions.get(clientId)?.online === false, `${clientId}'s session to go offline`)
}

test('[MQTT-3.3.2-4][MQTT-3.3.2-15][MQTT-3.3.2-16][MQTT-3.3.2-17][MQTT-3.3.2-20][MQTT-3.3.2-3] Payload Format Indicator, Content Type, Response Topic, Correlation Data and User Properties reach every v5 subscriber unchanged', async ({ broker }) => {
  const exact = await openV5(broker, { clientId: 'exact' })
  await exact.client.subscribeAsync('sensors/kitchen/temp', { qos: 1 })
  const wildcard = await openV5(broker, { clientId: 'wildcard' })
  await wildcard.client.subscribeAsync('sensors/+/temp', { qos: 0 })
  const publisher = await connectClient(broker.url, { protocolVersion: 5, clientId: 'publisher' })
  await publisher.publishAsync('sensors/kitchen/temp', '{"c":21.5}', {
    qos: 1,
    properties: {
      payloadFormatIndicator: true,
      contentType: 'application/json',
      responseTopic: 'replies/publisher',
      correlationData: Buffer.from([0xde, 0xad, 0xbe, 0xef]),
      userProperties: { unit: 'celsius', source: 'probe-7' }
    }
  })
  await eventually(() => exact.received.length === 1 && wildcard.received.length === 1, 'both deliveries')
  for (const { received } of [exact, wildcard]) {
    const message = received[0]!
    assert.is(message.topic, 'sensors/kitchen/temp')
    assert.is(message.payload, '{"c":21.5}')
    const properties = message.packet.properties ?? {}
    assert.is(properties.payloadFormatIndicator, true)
    assert.is(properties.contentType, 'application/json')
    assert.is(properties.responseTopic, 'replies/publisher')
    assert.equal(properties.correlationData, Buffer.from([0xde, 0xad, 0xbe, 0xef]))
    assert.equal({ ...properties.userProperties }, { unit: 'celsius', source: 'probe-7' })
    assert.is(properties.messageExpiryInterval, undefined, 'no expiry was set, none is added')
  }
})

test('[MQTT-3.3.2-18][MQTT-3.3.2-17] user properties are forwarded in the order they were sent, repeated names included', async ({ broker }) => {
  const subscriber = await wireSubscriber(broker, 'order-reader', 'order/t')
  const publisher = await acceptedV5(broker, { clientId: 'order-writer' })
  const pairs: Array<[string, string]> = [['zeta', '1'], ['alpha', '2'], ['zeta', '3'], ['mid', ''], ['alpha', '4'], ['', 'empty name']]
  publisher.client.sendBytes(publishBytes({ topic: 'order/t', qos: 1, packetId: 9, payload: 'x', properties: propertySection(...pairs.map(([name, value]) => property.userProperty(name, value))) }))
  assert.is((await publisher.client.next('puback')).messageId, 9)
  const [message] = await subscriber.waitFor(() => subscriber.publishes.length > 0 ? subscriber.publishes : undefined, 'the PUBLISH')
  assert.equal(message!.properties.map(([, pair]) => pair), pairs)
})

test('[MQTT-3.3.2-5] a message whose Message Expiry Interval passed while its subscriber was offline is not delivered on reconnect; one still valid is', async ({ broker }) => {
  const first = await acceptedV5(broker, { clientId: 'sleeper', clean: false, properties: { sessionExpiryInterval: 60 } })
  await rawSubscribe(first.client, [{ topic: 'expiry/t', qos: 1 }])
  first.client.end()
  await offline(broker, 'sleeper')
  const publisher = await connectClient(broker.url, { protocolVersion: 5 })
  await publisher.publishAsync('expiry/t', 'short-lived', { qos: 1, properties: { messageExpiryInterval: 1 } })
  await publisher.publishAsync('expiry/t', 'long-lived', { qos: 1, properties: { messageExpiryInterval: 60 } })
  await publisher.publishAsync('expiry/t', 'immortal', { qos: 1 })
  await quietFor(2200)
  const back = await acceptedV5(broker, { clientId: 'sleeper', clean: false, properties: { sessionExpiryInterval: 60 } })
  assert.is(back.connack.sessionPresent, true)
  const firstDelivery = await back.client.next('publish')
  await quietFor(300)
  const payloads = [firstDelivery, ...takePublishes(back.client)].map(packet => packet.payload.toString())
  assert.equal(payloads, ['long-lived', 'immortal'], 'the expired message is not delivered, the others are')
  assert.is(broker.broker.counters.dropped.expired, 1, 'the expired one is counted')
})

test('[MQTT-3.3.2-6] the forwarded Message Expiry Interval is the received one minus the time the message waited in the broker', async ({ broker }) => {
  const live = await wireSubscriber(broker, 'live-expiry', 'wait/t')
  const first = await acceptedV5(broker, { clientId: 'waiter', clean: false, properties: { sessionExpiryInterval: 60 } })
  await rawSubscribe(first.client, [{ topic: 'wait/t', qos: 1 }])
  first.client.end()
  await offline(broker, 'waiter')
  const publisher = await connectClient(broker.url, { protocolVersion: 5 })
  await publisher.publishAsync('wait/t', 'aging', { qos: 1, properties: { messageExpiryInterval: 30 } })
  const [fresh] = await live.waitFor(() => live.publishes.length > 0 ? live.publishes : undefined, 'the live delivery')
  const liveExpiry = propertyValue(fresh!, 'messageExpiryInterval')
  assert.ok(liveExpiry === 30 || liveExpiry === 29, `delivered at once: ${String(liveExpiry)} of 30 s left`)

  await quietFor(2200)
  const back = await acceptedV5(broker, { clientId: 'waiter', clean: false, properties: { sessionExpiryInterval: 60 } })
  const message = await back.client.next('publish')
  const left = message.properties?.messageExpiryInterval
  assert.type(left, 'number')
  assert.ok(left! <= 28 && left! >= 25, `after waiting about 2 s offline, ${String(left)} of 30 s left`)
})

test('[MQTT-3.3.4-3][MQTT-3.3.4-4][MQTT-3.3.4-2] overlapping subscriptions: one delivery carrying every matching Subscription Identifier, at the highest granted QoS', async ({ broker }) => {
  const { client } = await acceptedV5(broker, { clientId: 'overlap' })
  await rawSubscribe(client, [{ topic: 'home/#', qos: 0 }], { subscriptionIdentifier: 7 }, 1)
  await rawSubscribe(client, [{ topic: 'home/+/light', qos: 2 }], { subscriptionIdentifier: 300 }, 2)
  await rawSubscribe(client, [{ topic: 'home/hall/light', qos: 1 }], undefined, 3)
  const publisher = await connectClient(broker.url, { protocolVersion: 5 })
  await publisher.publishAsync('home/hall/light', 'on', { qos: 2 })
  const message = await client.next('publish')
  await quietFor(300)
  assert.equal(takePublishes(client), [], 'one delivery, not one per subscription')
  assert.is(message.qos, 2, 'the highest QoS among the matching subscriptions')
  const ids = message.properties?.subscriptionIdentifier
  assert.equal([ids].flat().sort((a, b) => Number(a) - Number(b)), [7, 300])

  await publisher.publishAsync('home/kitchen/oven', 'hot', { qos: 1 })
  const other = await client.next('publish')
  assert.is(other.properties?.subscriptionIdentifier, 7, 'only the matching subscription\'s identifier')
  assert.is(other.qos, 0)
})

test('[MQTT-3.3.4-3] a delivery through a subscription without an identifier carries none; re-subscribing with a new identifier replaces it', async ({ broker }) => {
  const { client } = await acceptedV5(broker, { clientId: 'ids' })
  await rawSubscribe(client, [{ topic: 'ids/t', qos: 1 }])
  const publisher = await connectClient(broker.url, { protocolVersion: 5 })
  await publisher.publishAsync('ids/t', 'plain', { qos: 1 })
  const plain = await client.next('publish')
  assert.is(plain.properties?.subscriptionIdentifier, undefined)
  client.send({ cmd: 'puback', messageId: plain.messageId! })
  await rawSubscribe(client, [{ topic: 'ids/t', qos: 1 }], { subscriptionIdentifier: 42 }, 2)
  await publisher.publishAsync('ids/t', 'tagged', { qos: 1 })
  const tagged = await client.next('publish')
  assert.is(tagged.properties?.subscriptionIdentifier, 42)
})

test('[MQTT-3.3.2-12] inbound topic aliases: a PUBLISH with topic and alias sets it up, later ones with an empty topic use it, up to the Topic Alias Maximum in CONNACK', async () => {
  const broker = await brokerWith({ maxTopicAlias: 3 })
  const watcher = await openV5(broker, { clientId: 'alias-watcher' })
  await watcher.client.subscribeAsync('aliased/#', { qos: 1 })
  const { client, connack } = await acceptedV5(broker, { clientId: 'aliaser' })
  assert.is(connack.properties?.topicAliasMaximum, 3)
  client.send({ cmd: 'publish', topic: 'aliased/one', payload: Buffer.from('1'), qos: 1, messageId: 1, retain: false, dup: false, properties: { topicAlias: 1 } })
  client.send({ cmd: 'publish', topic: 'aliased/three', payload: Buffer.from('2'), qos: 1, messageId: 2, retain: false, dup: false, properties: { topicAlias: 3 } })
  client.send({ cmd: 'publish', topic: '', payload: Buffer.from('3'), qos: 1, messageId: 3, retain: false, dup: false, properties: { topicAlias: 1 } })
  client.send({ cmd: 'publish', topic: '', payload: Buffer.from('4'), qos: 0, retain: false, dup: false, properties: { topicAlias: 3 } })
  // Re-pointing an alias at another topic.
  client.send({ cmd: 'publish', topic: 'aliased/moved', payload: Buffer.from('5'), qos: 1, messageId: 4, retain: false, dup: false, properties: { topicAlias: 1 } })
  client.send({ cmd: 'publish', topic: '', payload: Buffer.from('6'), qos: 1, messageId: 5, retain: false, dup: false, properties: { topicAlias: 1 } })
  await eventually(() => watcher.received.length === 6, 'six messages')
  assert.equal(watcher.received.map(message => `${message.topic}=${message.payload}`), [
    'aliased/one=1', 'aliased/three=2', 'aliased/one=3', 'aliased/three=4', 'aliased/moved=5', 'aliased/moved=6'
  ])
  assert.is(client.connectionClosed, false)
})

test('[MQTT-3.3.2-8] Topic Alias 0 is refused with DISCONNECT 0x94 (Topic Alias invalid)', async ({ broker }) => {
  const { client } = await acceptedV5(broker, { clientId: 'alias-zero' })
  client.send({ cmd: 'publish', topic: 'a/b', payload: Buffer.from('x'), qos: 0, retain: false, dup: false, properties: { topicAlias: 0 } })
  await serverDisconnect(client, 0x94)
})

test('a Topic Alias above the broker\'s Topic Alias Maximum is refused with DISCONNECT 0x94', async () => {
  const broker = await brokerWith({ maxTopicAlias: 2 })
  const { client } = await acceptedV5(broker, { clientId: 'alias-high' })
  client.send({ cmd: 'publish', topic: 'a/b', payload: Buffer.from('x'), qos: 0, retain: false, dup: false, properties: { topicAlias: 3 } })
  await serverDisconnect(client, 0x94)
})

test('a broker with max-topic-alias 0 announces 0 and refuses any Topic Alias with DISCONNECT 0x94', async () => {
  const broker = await brokerWith({ maxTopicAlias: 0 })
  const { client, connack } = await acceptedV5(broker, { clientId: 'alias-none' })
  assert.ok(connack.properties?.topicAliasMaximum === 0 || connack.properties?.topicAliasMaximum === undefined)
  client.send({ cmd: 'publish', topic: 'a/b', payload: Buffer.from('x'), qos: 0, retain: false, dup: false, properties: { topicAlias: 1 } })
  await serverDisconnect(client, 0x94)
})

test('an empty topic with an alias that was never set up is a Protocol Error: DISCONNECT 0x82', async ({ broker }) => {
  const { client } = await acceptedV5(broker, { clientId: 'alias-unknown' })
  client.send({ cmd: 'publish', topic: '', payload: Buffer.from('x'), qos: 1, messageId: 1, retain: false, dup: false, properties: { topicAlias: 5 } })
  await serverDisconnect(client, 0x82)
})

test('an empty topic without any alias is a Protocol Error: DISCONNECT 0x82', async ({ broker }) => {
  const { client } = await acceptedV5(broker, { clientId: 'no-topic' })
  client.sendBytes(publishBytes({ topic: '', qos: 0, payload: 'x' }))
  await serverDisconnect(client, 0x82)
})

test('[MQTT-3.3.2-7] topic aliases belong to one connection: after a reconnect the old alias is unknown', async ({ broker }) => {
  const first = await acceptedV5(broker, { clientId: 'alias-session', clean: false, properties: { sessionExpiryInterval: 60 } })
  first.client.send({ cmd: 'publish', topic: 'alias/kept?', payload: Buffer.from('x'), qos: 1, messageId: 1, retain: false, dup: false, properties: { topicAlias: 1 } })
  await first.client.next('puback')
  first.client.end()
  await offline(broker, 'alias-session')
  const second = await acceptedV5(broker, { clientId: 'alias-session', clean: false, properties: { sessionExpiryInterval: 60 } })
  assert.is(second.connack.sessionPresent, true)
  second.client.send({ cmd: 'publish', topic: '', payload: Buffer.from('y'), qos: 1, messageId: 2, retain: false, dup: false, properties: { topicAlias: 1 } })
  await serverDisconnect(second.client, 0x82)
})

test('[MQTT-3.1.2-26][MQTT-3.3.2-11] outbound topic aliases: first PUBLISH has topic and alias, later ones an empty topic and the same alias; never more aliases than the client\'s Topic Alias Maximum', async ({ broker }) => {
  const subscriber = await wireSubscriber(broker, 'alias-taker', 'out/#', { topicAliasMaximum: 2 })
  const publisher = await connectClient(broker.url, { protocolVersion: 5 })
  const topics = ['out/a', 'out/b', 'out/c', 'out/a', 'out/b', 'out/c', 'out/a']
  for (const [index, topic] of topics.entries()) await publisher.publishAsync(topic, String(index), { qos: 0 })
  const publishes = await subscriber.waitFor(() => subscriber.publishes.length === topics.length ? subscriber.publishes : undefined, 'seven PUBLISH packets')
  const seen = publishes.map(publish => ({ topic: publish.topic, alias: propertyValue(publish, 'topicAlias'), payload: publish.payload.toString() }))
  assert.equal(seen.map(entry => entry.payload), ['0', '1', '2', '3', '4', '5', '6'])
  for (const entry of seen) if (entry.alias !== undefined) assert.ok(entry.alias >= 1 && entry.alias <= 2, `alias ${entry.alias} within 1..2`)
  // Resolve aliases as a client would, and check every message names its real topic.
  const table = new Map<number, string>()
  const resolved = seen.map(entry => {
    if (entry.topic.length > 0 && entry.alias !== undefined) table.set(entry.alias, entry.topic)
    return entry.topic.length > 0 ? entry.topic : table.get(entry.alias!)
  })
  assert.equal(resolved, topics)
  const aliasA = seen[0]!
  assert.is(aliasA.topic, 'out/a')
  assert.type(aliasA.alias, 'number', 'the first PUBLISH sets up an alias')
  assert.equal(seen[3], { topic: '', alias: aliasA.alias, payload: '3' }, 'the second PUBLISH on out/a: empty topic, same alias')
  assert.is(new Set(seen.map(entry => entry.alias).filter(alias => alias !== undefined)).size, 2, 'two aliases in use, the maximum')
  assert.ok(seen.some(entry => entry.alias === undefined && entry.topic === 'out/c'), 'a topic beyond the maximum is sent in full')
})

test('[MQTT-3.1.2-27] a client without Topic Alias Maximum (or with 0) gets no topic aliases', async ({ broker }) => {
  const without = await wireSubscriber(broker, 'no-max', 'plain/#')
  const zero = await wireSubscriber(broker, 'zero-max', 'plain/#', { topicAliasMaximum: 0 })
  const publisher = await connectClient(broker.url, { protocolVersion: 5 })
  for (let i = 0; i < 3; i++) await publisher.publishAsync('plain/t', String(i), { qos: 1 })
  for (const client of [without, zero]) {
    const publishes = await client.waitFor(() => client.publishes.length === 3 ? client.publishes : undefined, 'three PUBLISH packets')
    for (const publish of publishes) {
      assert.is(publish.topic, 'plain/t')
      assert.ok(publish.properties.every(([name]) => name !== 'topicAlias'))
    }
  }
})

test('MQTT.js with a Topic Alias Maximum resolves the broker\'s aliases to the right topics', async ({ broker }) => {
  const subscriber = await openV5(broker, { clientId: 'mqttjs-alias', properties: { topicAliasMaximum: 5 } })
  await subscriber.client.subscribeAsync('js/#', { qos: 1 })
  const publisher = await connectClient(broker.url, { protocolVersion: 5 })
  for (const topic of ['js/a', 'js/b', 'js/a', 'js/b']) await publisher.publishAsync(topic, topic, { qos: 1 })
  await eventually(() => subscriber.received.length === 4, 'four messages')
  assert.equal(subscriber.received.map(message => `${message.topic}=${message.payload}`), ['js/a=js/a', 'js/b=js/b', 'js/a=js/a', 'js/b=js/b'])
  assert.ok(subscriber.received.some(message => message.packet.properties?.topicAlias !== undefined), 'aliases were used')
})

test('request/response: Response Topic and Correlation Data reach the responder, and its response reaches the requester', async ({ broker }) => {
  const responder = await openV5(broker, { clientId: 'responder' })
  responder.client.on('message', (_topic, payload, packet) => {
    const { responseTopic, correlationData } = packet.properties ?? {}
    if (responseTopic === undefined) return
    responder.client.publish(responseTopic, `echo: ${payload.toString()}`, { qos: 1, properties: correlationData === undefined ? {} : { correlationData } })
  })
  await responder.client.subscribeAsync('service/echo', { qos: 1 })
  const requester = await openV5(broker, { clientId: 'requester' })
  await requester.client.subscribeAsync('replies/requester', { qos: 1 })
  for (const id of ['req-1', 'req-2']) {
    await requester.client.publishAsync('service/echo', `ping ${id}`, { qos: 1, properties: { responseTopic: 'replies/requester', correlationData: Buffer.from(id) } })
  }
  await eventually(() => requester.received.length === 2, 'two responses')
  const responses = requester.received.map(message => `${message.packet.properties?.correlationData?.toString() ?? '?'}: ${message.payload}`)
  assert.equal(responses.sort(), ['req-1: echo: ping req-1', 'req-2: echo: ping req-2'])
  const request = responder.received[0]!.packet.properties
  assert.is(request?.responseTopic, 'replies/requester')
})

test('[MQTT-3.4.2-1][MQTT-2.2.1-5] PUBACK 0x10 (No matching subscribers) when nobody subscribes, 0x00 when someone does', async ({ broker }) => {
  const { client } = await acceptedV5(broker, { clientId: 'acks' })
  client.send({ cmd: 'publish', topic: 'lonely/t', payload: Buffer.from('x'), qos: 1, messageId: 11, retain: false, dup: false })
  const lonely = await client.next('puback')
  assert.is(lonely.messageId, 11)
  assert.is(lonely.reasonCode, 0x10)
  const subscriber = await openV5(broker, { clientId: 'listener' })
  await subscriber.client.subscribeAsync('lonely/t', { qos: 1 })
  client.send({ cmd: 'publish', topic: 'lonely/t', payload: Buffer.from('y'), qos: 1, messageId: 12, retain: false, dup: false })
  const heard = await client.next('puback')
  assert.is(heard.messageId, 12)
  assert.ok(heard.reasonCode === 0 || heard.reasonCode === undefined)
})

test('[MQTT-3.5.2-1][MQTT-3.7.2-1] PUBREC 0x10 when nobody subscribes to a QoS 2 message; the flow completes with PUBCOMP 0x00', async ({ broker }) => {
  const { client } = await acceptedV5(broker, { clientId: 'acks2' })
  client.send({ cmd: 'publish', topic: 'lonely/q2', payload: Buffer.from('x'), qos: 2, messageId: 21, retain: false, dup: false })
  const pubrec = await client.next('pubrec')
  assert.is(pubrec.messageId, 21)
  assert.is(pubrec.reasonCode, 0x10)
  client.send({ cmd: 'pubrel', messageId: 21 })
  const pubcomp = await client.next('pubcomp')
  assert.is(pubcomp.messageId, 21)
  assert.ok(pubcomp.reasonCode === 0 || pubcomp.reasonCode === undefined)
})

test('[MQTT-3.7.2-1] PUBREL for an unknown packet id gets PUBCOMP 0x92 (Packet Identifier not found)', async ({ broker }) => {
  const { client } = await acceptedV5(broker, { clientId: 'stray-pubrel' })
  client.send({ cmd: 'pubrel', messageId: 77 })
  const pubcomp = await client.next('pubcomp')
  assert.is(pubcomp.messageId, 77)
  assert.is(pubcomp.reasonCode, 0x92)
  assert.is(client.connectionClosed, false)
})

test('[MQTT-3.6.2-1] PUBREC for an unknown packet id gets PUBREL 0x92 (Packet Identifier not found)', async ({ broker }) => {
  const { client } = await acceptedV5(broker, { clientId: 'stray-pubrec' })
  client.send({ cmd: 'pubrec', messageId: 78 })
  const pubrel = await client.next('pubrel')
  assert.is(pubrel.messageId, 78)
  assert.is(pubrel.reasonCode, 0x92)
})

test('[MQTT-3.3.2-4] PUBACK / PUBREC 0x99 (Payload format invalid) for a payload marked UTF-8 that is not; it is not forwarded; at QoS 0 the connection is closed with DISCONNECT 0x99', async ({ broker }) => {
  const watcher = await openV5(broker, { clientId: 'format-watcher' })
  await watcher.client.subscribeAsync('format/#', { qos: 1 })
  const { client } = await acceptedV5(broker, { clientId: 'bad-format' })
  const invalid = Buffer.from([0x68, 0x69, 0xff, 0xfe])
  client.send({ cmd: 'publish', topic: 'format/q1', payload: invalid, qos: 1, messageId: 31, retain: false, dup: false, properties: { payloadFormatIndicator: true } })
  const puback = await client.next('puback')
  assert.is(puback.reasonCode, 0x99)
  client.send({ cmd: 'publish', topic: 'format/q2', payload: invalid, qos: 2, messageId: 32, retain: false, dup: false, properties: { payloadFormatIndicator: true } })
  const pubrec = await client.next('pubrec')
  assert.is(pubrec.reasonCode, 0x99)
  // The same bytes without the indicator are just bytes.
  client.send({ cmd: 'publish', topic: 'format/raw', payload: invalid, qos: 1, messageId: 33, retain: false, dup: false })
  assert.is((await client.next('puback')).messageId, 33)
  await eventually(() => watcher.received.length === 1, 'the unmarked message')
  assert.is(watcher.received[0]!.topic, 'format/raw')
  client.send({ cmd: 'publish', topic: 'format/q0', payload: invalid, qos: 0, retain: false, dup: false, properties: { payloadFormatIndicator: true } })
  await serverDisconnect(client, 0x99)
  await quietFor(200)
  assert.is(watcher.received.length, 1, 'no invalid payload was forwarded')
})

test('[MQTT-2.2.1-4][MQTT-4.3.2-1][MQTT-4.3.2-2][MQTT-4.3.2-3][MQTT-4.4.0-1][MQTT-3.3.1-1] QoS 1 deliveries get distinct non-zero packet ids and DUP 0; unacknowledged ones are re-sent with DUP 1, same ids, same order, on reconnect with Clean Start 0', async ({ broker }) => {
  const first = await acceptedV5(broker, { clientId: 'q1-sender', clean: false, properties: { sessionExpiryInterval: 60 } })
  await rawSubscribe(first.client, [{ topic: 'q1send/t', qos: 1 }])
  const publisher = await connectClient(broker.url, { protocolVersion: 5 })
  for (let i = 1; i <= 4; i++) await publisher.publishAsync('q1send/t', `m${i}`, { qos: 1 })
  const sent = [await first.client.next('publish'), await first.client.next('publish'), await first.client.next('publish'), await first.client.next('publish')]
  const ids = sent.map(packet => packet.messageId!)
  assert.ok(ids.every(id => id > 0), `non-zero ids ${ids.join(', ')}`)
  assert.is(new Set(ids).size, 4, 'no id used twice while in flight')
  assert.ok(sent.every(packet => !packet.dup && packet.qos === 1))
  // Acknowledge the second only.
  first.client.send({ cmd: 'puback', messageId: ids[1]! })
  await quietFor(100)
  first.client.end()
  await offline(broker, 'q1-sender')
  const back = await acceptedV5(broker, { clientId: 'q1-sender', clean: false, properties: { sessionExpiryInterval: 60 } })
  const again = [await back.client.next('publish'), await back.client.next('publish'), await back.client.next('publish')]
  assert.equal(again.map(packet => [packet.messageId, packet.dup, packet.payload.toString()]), [[ids[0], true, 'm1'], [ids[2], true, 'm3'], [ids[3], true, 'm4']])
  for (const packet of again) back.client.send({ cmd: 'puback', messageId: packet.messageId! })
  await quietFor(100)
  back.client.end()
  await offline(broker, 'q1-sender')
  const third = await acceptedV5(broker, { clientId: 'q1-sender', clean: false, properties: { sessionExpiryInterval: 60 } })
  await quietFor(300)
  assert.equal(takePublishes(third.client), [], 'acknowledged messages are not sent again')
})

test('[MQTT-4.4.0-1] nothing is re-sent to a client that reconnects with Clean Start 1', async ({ broker }) => {
  const first = await acceptedV5(broker, { clientId: 'q1-clean', clean: false, properties: { sessionExpiryInterval: 60 } })
  await rawSubscribe(first.client, [{ topic: 'q1clean/t', qos: 1 }])
  const publisher = await connectClient(broker.url, { protocolVersion: 5 })
  await publisher.publishAsync('q1clean/t', 'unacknowledged', { qos: 1 })
  await first.client.next('publish')
  first.client.end()
  await offline(broker, 'q1-clean')
  const fresh = await acceptedV5(broker, { clientId: 'q1-clean', clean: true, properties: { sessionExpiryInterval: 60 } })
  await quietFor(300)
  assert.equal(takePublishes(fresh.client), [])
})

test('[MQTT-4.3.3-1][MQTT-4.3.3-2][MQTT-4.3.3-3][MQTT-4.3.3-4][MQTT-4.3.3-5] a QoS 2 delivery: PUBLISH with DUP 0, re-sent until PUBREC, then PUBREL with the same id until PUBCOMP', async ({ broker }) => {
  const first = await acceptedV5(broker, { clientId: 'q2-sender', clean: false, properties: { sessionExpiryInterval: 60 } })
  await rawSubscribe(first.client, [{ topic: 'q2send/t', qos: 2 }])
  const publisher = await connectClient(broker.url, { protocolVersion: 5 })
  await publisher.publishAsync('q2send/t', 'exactly once', { qos: 2 })
  const sent = await first.client.next('publish')
  assert.is(sent.qos, 2)
  assert.is(sent.dup, false)
  assert.ok(sent.messageId! > 0)
  first.client.end()
  await offline(broker, 'q2-sender')
  const second = await acceptedV5(broker, { clientId: 'q2-sender', clean: false, properties: { sessionExpiryInterval: 60 } })
  const resent = await second.client.next('publish')
  assert.equal([resent.messageId, resent.dup], [sent.messageId, true], 'no PUBREC yet: the PUBLISH is re-sent')
  second.client.send({ cmd: 'pubrec', messageId: sent.messageId! })
  const pubrel = await second.client.next('pubrel')
  assert.is(pubrel.messageId, sent.messageId)
  assert.ok((pubrel.reasonCode ?? 0) === 0)
  second.client.send({ cmd: 'pubcomp', messageId: sent.messageId! })
  await quietFor(100)
  second.client.end()
  await offline(broker, 'q2-sender')
  const third = await acceptedV5(broker, { clientId: 'q2-sender', clean: false, properties: { sessionExpiryInterval: 60 } })
  await quietFor(300)
  assert.equal(third.client.received.filter(packet => packet.cmd === 'publish' || packet.cmd === 'pubrel'), [], 'completed: nothing re-sent')
})

test('[MQTT-3.3.4-1][MQTT-4.3.2-4][MQTT-4.3.2-5][MQTT-2.2.1-5] the broker answers QoS 0 with nothing, QoS 1 with PUBACK carrying the packet id; the same id after PUBACK is a new message', async ({ broker }) => {
  const watcher = await openV5(broker, { clientId: 'q1-watcher' })
  await watcher.client.subscribeAsync('q1recv/t', { qos: 1 })
  const { client } = await acceptedV5(broker, { clientId: 'q1-publisher' })
  client.send({ cmd: 'publish', topic: 'q1recv/t', payload: Buffer.from('zero'), qos: 0, retain: false, dup: false })
  client.send({ cmd: 'pingreq' })
  await client.next('pingresp')
  assert.equal(client.received, [], 'no acknowledgement for QoS 0')
  client.send({ cmd: 'publish', topic: 'q1recv/t', payload: Buffer.from('first'), qos: 1, messageId: 5, retain: false, dup: false })
  assert.is((await client.next('puback')).messageId, 5)
  client.send({ cmd: 'publish', topic: 'q1recv/t', payload: Buffer.from('second'), qos: 1, messageId: 5, retain: false, dup: true })
  assert.is((await client.next('puback')).messageId, 5)
  await eventually(() => watcher.received.length === 3, 'three messages')
  assert.equal(watcher.received.map(message => message.payload), ['zero', 'first', 'second'])
})

test('[MQTT-4.3.3-8][MQTT-4.3.3-10][MQTT-4.3.3-11][MQTT-4.3.3-12][MQTT-2.2.1-5] the broker as QoS 2 receiver: PUBREC with the id, a repeat before PUBREL is acknowledged but not forwarded again, PUBCOMP with the id, then the id is free', async ({ broker }) => {
  const watcher = await openV5(broker, { clientId: 'q2-watcher' })
  await watcher.client.subscribeAsync('q2recv/t', { qos: 2 })
  const { client } = await acceptedV5(broker, { clientId: 'q2-publisher' })
  client.send({ cmd: 'publish', topic: 'q2recv/t', payload: Buffer.from('once'), qos: 2, messageId: 7, retain: false, dup: false })
  assert.is((await client.next('pubrec')).messageId, 7)
  client.send({ cmd: 'publish', topic: 'q2recv/t', payload: Buffer.from('once'), qos: 2, messageId: 7, retain: false, dup: true })
  assert.is((await client.next('pubrec')).messageId, 7)
  client.send({ cmd: 'pubrel', messageId: 7 })
  const pubcomp = await client.next('pubcomp')
  assert.is(pubcomp.messageId, 7)
  assert.ok((pubcomp.reasonCode ?? 0) === 0)
  client.send({ cmd: 'publish', topic: 'q2recv/t', payload: Buffer.from('again'), qos: 2, messageId: 7, retain: false, dup: false })
  assert.is((await client.next('pubrec')).messageId, 7)
  client.send({ cmd: 'pubrel', messageId: 7 })
  await client.next('pubcomp')
  await eventually(() => watcher.received.length === 2, 'two messages')
  await quietFor(200)
  assert.equal(watcher.received.map(message => message.payload), ['once', 'again'])
})

test('[MQTT-4.3.3-9] after PUBREC 0x99 the same packet id starts a new message', async ({ broker }) => {
  const watcher = await openV5(broker, { clientId: 'q2-refused-watcher' })
  await watcher.client.subscribeAsync('q2refused/t', { qos: 2 })
  const { client } = await acceptedV5(broker, { clientId: 'q2-refused' })
  client.send({ cmd: 'publish', topic: 'q2refused/t', payload: Buffer.from([0xff]), qos: 2, messageId: 8, retain: false, dup: false, properties: { payloadFormatIndicator: true } })
  assert.is((await client.next('pubrec')).reasonCode, 0x99)
  client.send({ cmd: 'publish', topic: 'q2refused/t', payload: Buffer.from('valid'), qos: 2, messageId: 8, retain: false, dup: false, properties: { payloadFormatIndicator: true } })
  const pubrec = await client.next('pubrec')
  assert.ok((pubrec.reasonCode ?? 0) === 0)
  client.send({ cmd: 'pubrel', messageId: 8 })
  await client.next('pubcomp')
  await eventually(() => watcher.received.length === 1, 'the new message')
  assert.is(watcher.received[0]!.payload, 'valid')
})

test('[MQTT-3.3.1-3] the DUP flag of a forwarded message is the broker\'s own: a publisher\'s DUP 1 arrives as DUP 0', async ({ broker }) => {
  const { client: subscriber } = await acceptedV5(broker, { clientId: 'dup-reader' })
  await rawSubscribe(subscriber, [{ topic: 'dup/t', qos: 1 }])
  const { client } = await acceptedV5(broker, { clientId: 'dup-writer' })
  client.send({ cmd: 'publish', topic: 'dup/t', payload: Buffer.from('retry'), qos: 1, messageId: 3, retain: false, dup: true })
  await client.next('puback')
  const forwarded = await subscriber.next('publish')
  assert.is(forwarded.dup, false)
})

test('[MQTT-4.6.0-5][MQTT-4.6.0-6][MQTT-4.5.0-1] messages from one publisher reach online and offline subscribers in the order they were published', async ({ broker }) => {
  const online = await openV5(broker, { clientId: 'in-order' })
  await online.client.subscribeAsync('ordered/#', { qos: 2 })
  const away = await acceptedV5(broker, { clientId: 'in-order-later', clean: false, properties: { sessionExpiryInterval: 60 } })
  await rawSubscribe(away.client, [{ topic: 'ordered/#', qos: 1 }])
  away.client.end()
  await offline(broker, 'in-order-later')
  const { client } = await acceptedV5(broker, { clientId: 'ordered-publisher' })
  const count = 60
  for (let i = 0; i < count; i++) client.send({ cmd: 'publish', topic: 'ordered/t', payload: Buffer.from(String(i)), qos: 1, messageId: i + 1, retain: false, dup: false })
  await eventually(() => online.received.length === count, `${count} messages online`)
  const expected = Array.from({ length: count }, (_, i) => String(i))
  assert.equal(online.received.map(message => message.payload), expected)
  const back = await openV5(broker, { clientId: 'in-order-later', clean: false, properties: { sessionExpiryInterval: 60 } })
  await eventually(() => back.received.length === count, `${count} messages queued for the offline session`)
  assert.equal(back.received.map(message => message.payload), expected)
})

test('[MQTT-4.7.3-4] topic matching compares characters exactly: no case folding, no Unicode normalisation', async ({ broker }) => {
  const { client } = await acceptedV5(broker, { clientId: 'exact-chars' })
  await rawSubscribe(client, [{ topic: 'caf\u00e9/Room', qos: 1 }])
  const publisher = await connectClient(broker.url, { protocolVersion: 5 })
  await publisher.publishAsync('cafe\u0301/Room', 'decomposed', { qos: 1 })
  await publisher.publishAsync('caf\u00e9/room', 'lower case', { qos: 1 })
  await publisher.publishAsync('caf\u00e9/Room', 'exact', { qos: 1 })
  const message = await client.next('publish')
  assert.is(message.payload.toString(), 'exact')
  await quietFor(200)
  assert.equal(takePublishes(client), [])
})

test('[MQTT-4.4.0-2] a QoS 1 delivery the client answered with PUBACK 0x80 is not sent again on reconnect', async ({ broker }) => {
  const first = await acceptedV5(broker, { clientId: 'refuser', clean: false, properties: { sessionExpiryInterval: 60 } })
  await rawSubscribe(first.client, [{ topic: 'refused/t', qos: 1 }])
  const publisher = await connectClient(broker.url, { protocolVersion: 5 })
  await publisher.publishAsync('refused/t', 'declined', { qos: 1 })
  const message = await first.client.next('publish')
  first.client.send({ cmd: 'puback', messageId: message.messageId!, reasonCode: 0x80 })
  await quietFor(100)
  first.client.end()
  await offline(broker, 'refuser')
  const back = await acceptedV5(broker, { clientId: 'refuser', clean: false, properties: { sessionExpiryInterval: 60 } })
  assert.is(back.connack.sessionPresent, true)
  await quietFor(400)
  assert.equal(takePublishes(back.client), [])
})

test('[MQTT-4.3.3-7][MQTT-3.3.1-1] a QoS 2 message already sent is re-sent on reconnect (DUP 1) even though its Message Expiry passed', async ({ broker }) => {
  const first = await acceptedV5(broker, { clientId: 'q2-expiry', clean: false, properties: { sessionExpiryInterval: 60 } })
  await rawSubscribe(first.client, [{ topic: 'q2expiry/t', qos: 2 }])
  const publisher = await connectClient(broker.url, { protocolVersion: 5 })
  await publisher.publishAsync('q2expiry/t', 'must finish', { qos: 2, properties: { messageExpiryInterval: 1 } })
  const sent = await first.client.next('publish')
  assert.is(sent.dup, false)
  first.client.end()
  await offline(broker, 'q2-expiry')
  await quietFor(2100)
  const back = await acceptedV5(broker, { clientId: 'q2-expiry', clean: false, properties: { sessionExpiryInterval: 60 } })
  const again = await back.client.next('publish')
  assert.is(again.messageId, sent.messageId)
  assert.is(again.dup, true)
  assert.is(again.payload.toString(), 'must finish')
})

test('[MQTT-4.3.3-13][MQTT-4.3.3-5][MQTT-4.3.3-6] a QoS 2 exchange is completed after a reconnect even though the message expired: PUBREL is re-sent', async ({ broker }) => {
  const first = await acceptedV5(broker, { clientId: 'q2-finish', clean: false, properties: { sessionExpiryInterval: 60 } })
  await rawSubscribe(first.client, [{ topic: 'q2finish/t', qos: 2 }])
  const publisher = await connectClient(broker.url, { protocolVersion: 5 })
  await publisher.publishAsync('q2finish/t', 'x', { qos: 2, properties: { messageExpiryInterval: 1 } })
  const sent = await first.client.next('publish')
  first.client.send({ cmd: 'pubrec', messageId: sent.messageId! })
  assert.is((await first.client.next('pubrel')).messageId, sent.messageId)
  first.client.end()
  await offline(broker, 'q2-finish')
  await quietFor(2100)
  const back = await acceptedV5(broker, { clientId: 'q2-finish', clean: false, properties: { sessionExpiryInterval: 60 } })
  const pubrel = await back.client.next('pubrel')
  assert.is(pubrel.messageId, sent.messageId)
  back.client.send({ cmd: 'pubcomp', messageId: sent.messageId! })
  await quietFor(200)
  assert.equal(takePublishes(back.client), [], 'the PUBLISH itself is not sent again after PUBREL [MQTT-4.3.3-6]')
})

test.run()
