import type { MqttClient } from 'mqtt'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { brokerPerTest } from '../helpers/broker-per-test.js'
import { connectClient, eventually } from '../helpers/mqtt-clients.js'
import { acceptedV5, openV5, serverDisconnect, type OpenedV5 } from '../helpers/mqtt5-clients.js'
import { connectBytes, lengthPrefixed, packetBytes, property, propertySection, publishBytes, subscribeBytes, WireClient } from '../helpers/mqtt5-wire.js'
import { RawClient } from '../helpers/raw-client.js'
import type { TestBroker } from '../helpers/test-broker.js'

/**
 * Malformed and forbidden MQTT 5 input over real TCP (MQTT 5.0 sections 1.5, 2.1-2.2, 4.13):
 * each bad packet closes its own connection with the reason code the spec gives (DISCONNECT
 * 0x81 Malformed Packet or 0x82 Protocol Error once CONNACK was sent; for a bad CONNECT a
 * refusing CONNACK where the broker can tell, else a bare close), and the broker goes on
 * serving everyone else. Bytes are built by hand where mqtt-packet would not write them.
 */
const test = suite<{ broker: TestBroker, bystander: OpenedV5 }>('mqtt5: malformed input')

brokerPerTest(test)
// After brokerPerTest's hook, which starts the broker.
test.before.each(async context => {
  context.bystander = await openV5(context.broker, { clientId: 'bystander' })
  await context.bystander.client.subscribeAsync('bystander/#', { qos: 1 })
})

const MALFORMED = 0x81
const PROTOCOL_ERROR = 0x82

/** The broker still routes for others: a new publisher reaches the bystander. */
async function stillServing (broker: TestBroker, bystander: OpenedV5): Promise<void> {
  const before = bystander.received.length
  const publisher: MqttClient = await connectClient(broker.url, { protocolVersion: 5 })
  await publisher.publishAsync('bystander/t', 'still here', { qos: 1 })
  await eventually(() => bystander.received.length === before + 1, 'the bystander to be served')
  assert.is(bystander.client.connected, true)
}

/** Connects a v5 client, sends `bytes` after CONNACK, and expects DISCONNECT with one of `codes` and a close. */
async function refusedWith (context: { broker: TestBroker, bystander: OpenedV5 }, bytes: Buffer, ...codes: number[]): Promise<void> {
  const { client } = await acceptedV5(context.broker, { clientId: 'offender' })
  client.sendBytes(bytes)
  await serverDisconnect(client, ...codes)
  await stillServing(context.broker, context.bystander)
}

/** Sends `bytes` as the first packet: a bad CONNECT. Expects a close, a refusing CONNACK (if any) from `codes`, and never DISCONNECT. */
async function connectRefused (context: { broker: TestBroker, bystander: OpenedV5 }, bytes: Buffer, ...codes: number[]): Promise<void> {
  const client = await RawClient.connect(context.broker.port, 5)
  client.sendBytes(bytes)
  assert.ok(await client.closesWithin(3000), 'the broker closes the connection')
  for (const packet of client.received) {
    assert.is(packet.cmd, 'connack', `only a CONNACK may answer a bad CONNECT, not ${packet.cmd.toUpperCase()}`)
    if (packet.cmd === 'connack') assert.ok(codes.includes(packet.reasonCode ?? 0), `CONNACK reason 0x${(packet.reasonCode ?? 0).toString(16)}`)
  }
  assert.is(context.broker.broker.sessions.get('bad-connect'), undefined, 'no session was made')
  await stillServing(context.broker, context.bystander)
}

// --- properties ---

test('[MQTT-4.13.1-1][MQTT-4.13.2-1] a property given twice (Content Type in PUBLISH) is a Protocol Error: DISCONNECT 0x82', async context => {
  await refusedWith(context, publishBytes({ topic: 'a/b', properties: propertySection(property.contentType('a'), property.contentType('b')) }), PROTOCOL_ERROR)
})

test('[MQTT-4.13.1-1] a property a packet may not carry (Topic Alias in SUBSCRIBE) is a Protocol Error: DISCONNECT 0x82', async context => {
  await refusedWith(context, subscribeBytes({ filter: 'a/b', properties: propertySection(property.topicAlias(1)) }), PROTOCOL_ERROR)
  assert.is(context.broker.broker.router.subscriptionCount, 1, 'only the bystander\'s subscription exists')
})

test('[MQTT-4.13.1-1] Session Expiry Interval in PUBLISH is a Protocol Error: DISCONNECT 0x82, and the message is not routed', async context => {
  const { client } = await acceptedV5(context.broker, { clientId: 'offender' })
  client.sendBytes(publishBytes({ topic: 'bystander/bad', qos: 1, properties: propertySection(property.sessionExpiryInterval(10)) }))
  await serverDisconnect(client, PROTOCOL_ERROR)
  await stillServing(context.broker, context.bystander)
  assert.equal(context.bystander.received.map(message => message.topic), ['bystander/t'])
})

test('[MQTT-4.13.1-1] Will Delay Interval in PUBLISH, and a second Subscription Identifier in SUBSCRIBE, are Protocol Errors', async context => {
  await refusedWith(context, publishBytes({ topic: 'a/b', properties: propertySection(property.willDelayInterval(1)) }), PROTOCOL_ERROR)
  await refusedWith(context, subscribeBytes({ filter: 'a/b', properties: propertySection(property.subscriptionIdentifier(1), property.subscriptionIdentifier(2)) }), PROTOCOL_ERROR)
})

test('a Property Length running past the end of the packet is a Malformed Packet: DISCONNECT 0x81', async context => {
  await refusedWith(context, packetBytes(0x30, [...lengthPrefixed('a/b'), 20, ...property.contentType('x')]), MALFORMED)
})

test('a Property Length that ends inside a property is a Malformed Packet: DISCONNECT 0x81', async context => {
  await refusedWith(context, packetBytes(0x30, [...lengthPrefixed('a/b'), 2, ...property.contentType('xyz'), ...Buffer.from('payload')]), MALFORMED)
})

test('an unknown property identifier is a Malformed Packet: DISCONNECT 0x81', async context => {
  await refusedWith(context, publishBytes({ topic: 'a/b', properties: propertySection([0x7f, 0x00]) }), MALFORMED)
})

test('[MQTT-1.5.4-1][MQTT-3.3.2-19] Content Type that is not well-formed UTF-8 is a Malformed Packet: DISCONNECT 0x81', async context => {
  await refusedWith(context, publishBytes({ topic: 'a/b', properties: propertySection(property.contentType(Buffer.from([0x74, 0xc3, 0x28]))) }), MALFORMED)
})

test('[MQTT-1.5.4-1][MQTT-3.3.2-13] a Response Topic holding a UTF-16 surrogate (ED A0 80) is a Malformed Packet: DISCONNECT 0x81', async context => {
  await refusedWith(context, publishBytes({ topic: 'a/b', properties: propertySection(property.responseTopic(Buffer.from([0x72, 0xed, 0xa0, 0x80]))) }), MALFORMED)
})

test('[MQTT-1.5.4-2][MQTT-1.5.7-1] a User Property value holding U+0000 is a Malformed Packet: DISCONNECT 0x81', async context => {
  await refusedWith(context, publishBytes({ topic: 'a/b', properties: propertySection(property.userProperty('k', Buffer.from([0x61, 0x00, 0x62]))) }), MALFORMED)
})

test('[MQTT-1.5.7-1] a User Property name that is not well-formed UTF-8 is a Malformed Packet: DISCONNECT 0x81', async context => {
  await refusedWith(context, publishBytes({ topic: 'a/b', properties: propertySection(property.userProperty(Buffer.from([0xff, 0xfe]), 'v')) }), MALFORMED)
})

test('a Subscription Identifier in a PUBLISH from a client is a Protocol Error: DISCONNECT 0x82', async context => {
  await refusedWith(context, publishBytes({ topic: 'bystander/sub-id', qos: 1, properties: propertySection(property.subscriptionIdentifier(5)) }), PROTOCOL_ERROR)
  assert.equal(context.bystander.received.map(message => message.topic), ['bystander/t'], 'the message was not routed')
})

test('a Subscription Identifier of 0 in SUBSCRIBE is a Protocol Error: DISCONNECT 0x82', async context => {
  await refusedWith(context, subscribeBytes({ filter: 'a/b', properties: propertySection(property.subscriptionIdentifier(0)) }), PROTOCOL_ERROR)
})

test('[MQTT-3.3.2-14] a Response Topic with a wildcard is a Protocol Error: DISCONNECT 0x82', async context => {
  await refusedWith(context, publishBytes({ topic: 'a/b', properties: propertySection(property.responseTopic('replies/#')) }), PROTOCOL_ERROR)
  await refusedWith(context, publishBytes({ topic: 'a/b', properties: propertySection(property.responseTopic('replies/+/x')) }), PROTOCOL_ERROR)
})

// --- packet structure ---
test('[MQTT-3.3.2-1][MQTT-1.5.4-1] a PUBLISH topic that is not well-formed UTF-8 is a Malformed Packet: DISCONNECT 0x81', async context => {
  await refusedWith(context, publishBytes({ topic: Buffer.from([0x62, 0x79, 0x73, 0x74, 0x61, 0x6e, 0x64, 0x65, 0x72, 0x2f, 0xc3]) }), MALFORMED)
  assert.equal(context.bystander.received.map(message => message.topic), ['bystander/t'])
})

test('[MQTT-4.7.3-2][MQTT-1.5.4-2] a PUBLISH topic holding U+0000 is a Malformed Packet: DISCONNECT 0x81', async context => {
  await refusedWith(context, publishBytes({ topic: Buffer.from('bystander/\u0000x') }), MALFORMED)
  assert.equal(context.bystander.received.map(message => message.topic), ['bystander/t'])
})


test('[MQTT-3.3.1-4] a PUBLISH with both QoS bits set is a Malformed Packet: DISCONNECT 0x81', async context => {
  await refusedWith(context, publishBytes({ topic: 'a/b', qos: 3, packetId: 1 }), MALFORMED)
})

test('[MQTT-3.3.2-2][MQTT-4.7.0-1] a PUBLISH topic with a wildcard closes the connection (DISCONNECT 0x82 or 0x90)', async context => {
  await refusedWith(context, publishBytes({ topic: 'a/+/b', qos: 1 }), PROTOCOL_ERROR, 0x90)
})

for (const [name, firstByte, body, rule] of [
  ['PUBREL', 0x60, [0, 1], '[MQTT-3.6.1-1]'],
  ['SUBSCRIBE', 0x80, [0, 1, 0, ...lengthPrefixed('a/b'), 0], '[MQTT-3.8.1-1]'],
  ['UNSUBSCRIBE', 0xa0, [0, 1, 0, ...lengthPrefixed('a/b')], '[MQTT-3.10.1-1]'],
  ['DISCONNECT', 0xe1, [0], '[MQTT-3.14.1-1]'],
  ['PINGREQ', 0xc1, [], '']
] as const) {
  test(`[MQTT-2.1.3-1]${rule} ${name} with wrong fixed-header flags (0x${firstByte.toString(16)}) is a Malformed Packet: DISCONNECT 0x81`, async context => {
    await refusedWith(context, packetBytes(firstByte, [...body]), MALFORMED)
  })
}

test('[MQTT-3.8.3-5] SUBSCRIBE options with the reserved bits set, or Retain Handling 3, are malformed: DISCONNECT 0x81 (or 0x82)', async context => {
  await refusedWith(context, subscribeBytes({ filter: 'a/b', options: 0xc1 }), MALFORMED, PROTOCOL_ERROR)
  await refusedWith(context, subscribeBytes({ filter: 'a/b', options: 0x30 }), MALFORMED, PROTOCOL_ERROR)
})

// --- CONNECT ---

test('[MQTT-3.1.4-1][MQTT-3.14.0-1] a CONNECT with a property given twice is closed without CONNACK 0x00 and without DISCONNECT', async context => {
  await connectRefused(context, connectBytes({ clientId: 'bad-connect', properties: propertySection(property.sessionExpiryInterval(1), property.sessionExpiryInterval(2)) }), MALFORMED, PROTOCOL_ERROR)
})

test('[MQTT-3.1.4-1] a CONNECT with a property CONNECT may not carry (Topic Alias) is closed', async context => {
  await connectRefused(context, connectBytes({ clientId: 'bad-connect', properties: propertySection(property.topicAlias(1)) }), MALFORMED, PROTOCOL_ERROR)
})

test('[MQTT-3.1.4-1] a will with a property a will may not carry (Session Expiry Interval) is closed', async context => {
  await connectRefused(context, connectBytes({ clientId: 'bad-connect', flags: 0x06, will: { topic: 'w/t', properties: propertySection(property.sessionExpiryInterval(1)) } }), MALFORMED, PROTOCOL_ERROR)
})

test('[MQTT-3.1.4-1][MQTT-1.5.4-1] a CONNECT whose client id is not well-formed UTF-8 is closed', async context => {
  await connectRefused(context, connectBytes({ clientId: Buffer.from([0x62, 0xc0, 0xaf]) }), MALFORMED, 0x85)
})

test('[MQTT-3.1.4-1] a will topic with a wildcard gets CONNACK 0x90 (Topic Name invalid) or a close', async context => {
  await connectRefused(context, connectBytes({ clientId: 'bad-connect', flags: 0x06, will: { topic: 'w/#' } }), 0x90, PROTOCOL_ERROR)
})

test('[MQTT-3.1.4-1] a will with QoS 3 gets CONNACK 0x81 (Malformed Packet) or a close', async context => {
  await connectRefused(context, connectBytes({ clientId: 'bad-connect', flags: 0x02 | 0x04 | 0x18, will: { topic: 'w/t' } }), MALFORMED)
})

test('[MQTT-3.14.0-1] a packet other than CONNECT first is closed without a DISCONNECT: there was no CONNACK', async context => {
  const client = await RawClient.connect(context.broker.port, 5)
  client.sendBytes(publishBytes({ topic: 'a/b', payload: 'too early' }))
  assert.ok(await client.closesWithin(3000))
  assert.equal(client.received, [])
  await stillServing(context.broker, context.bystander)
})

// --- what the broker itself writes ---

test('[MQTT-1.5.4-3] a BOM (EF BB BF) in a topic and in a user property is kept, not stripped', async context => {
  const subscriber = await WireClient.connect(context.broker.port)
  subscriber.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clean: true, clientId: 'bom-reader', keepalive: 60 })
  subscriber.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: '\uFEFFbom/#', qos: 1 }] })
  await subscriber.waitFor(() => subscriber.packets.find(packet => packet.cmd === 'suback'), 'SUBACK')
  const { client } = await acceptedV5(context.broker, { clientId: 'bom-writer' })
  client.sendBytes(publishBytes({ topic: '\uFEFFbom/t', qos: 1, payload: 'x', properties: propertySection(property.userProperty('\uFEFFname', 'v\uFEFF')) }))
  assert.is((await client.next('puback')).reasonCode ?? 0, 0)
  const [message] = await subscriber.waitFor(() => subscriber.publishes.length > 0 ? subscriber.publishes : undefined, 'the PUBLISH')
  assert.is(message!.topic, '\uFEFFbom/t')
  assert.equal(message!.properties, [['userProperty', ['\uFEFFname', 'v\uFEFF']]])
})

test('[MQTT-1.5.5-1][MQTT-2.2.2-1][MQTT-2.2.1-2][MQTT-3.3.1-2][MQTT-4.3.1-1] the broker writes lengths in the fewest bytes and a Property Length of 0 where a packet has no properties', async context => {
  const client = await WireClient.connect(context.broker.port)
  client.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clean: true, clientId: 'length-reader', keepalive: 60 })
  client.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'len/#', qos: 0 }] })
  client.send({ cmd: 'unsubscribe', messageId: 2, unsubscriptions: ['never/there'] })
  await client.waitFor(() => client.packets.find(packet => packet.cmd === 'unsuback'), 'UNSUBACK')
  const publisher = await connectClient(context.broker.url, { protocolVersion: 5 })
  // Payload sizes that put the remaining length just below and above each encoding boundary.
  const sizes = [100, 121, 122, 16370, 16380, 200_000]
  for (const size of sizes) await publisher.publishAsync('len/t', Buffer.alloc(size, 0x61), { qos: 0 })
  const publishes = await client.waitFor(() => client.publishes.length === sizes.length ? client.publishes : undefined, 'every PUBLISH')
  for (const frame of client.frames) {
    let offset = 1
    while ((frame[offset]! & 0x80) !== 0) offset++
    const remaining = frame.length - offset - 1
    const fewest = remaining < 128 ? 1 : remaining < 16384 ? 2 : remaining < 2097152 ? 3 : 4
    assert.is(offset, fewest, `remaining length ${remaining} in ${offset} bytes`)
  }
  assert.equal(publishes.map(publish => publish.payload.length), sizes)
  for (const publish of publishes) assert.equal(publish.properties, [], 'an empty property section')
  for (const publish of publishes) assert.equal([publish.qos, publish.dup, publish.packetId], [0, false, undefined], 'QoS 0: DUP 0 and no packet id')
  const suback = client.frames.find(frame => frame[0] === 0x90)!
  assert.equal([...suback], [0x90, 4, 0, 1, 0, 0], 'SUBACK: packet id, Property Length 0, reason code')
  const unsuback = client.frames.find(frame => frame[0] === 0xb0)!
  assert.equal([...unsuback], [0xb0, 4, 0, 2, 0, 0x11], 'UNSUBACK: packet id, Property Length 0, reason code')
})

test.run()
