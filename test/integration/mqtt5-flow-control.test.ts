import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { connectClient, eventually, quietFor } from '../helpers/mqtt-clients.js'
import { acceptedV5, openV5, rawSubscribe, serverDisconnect, takePublishes } from '../helpers/mqtt5-clients.js'
import { WireClient } from '../helpers/mqtt5-wire.js'
import { RawClient } from '../helpers/raw-client.js'
import { type TestBroker } from '../helpers/test-broker.js'
import { brokerPerTest } from '../helpers/broker-per-test.js'

/**
 * MQTT 5 flow control and packet size limits over real TCP (MQTT 5.0 sections 3.1.2.11,
 * 3.3.4, 4.9): the client's Receive Maximum bounds what the broker has in flight to it, the
 * broker's own Receive Maximum bounds inbound QoS 2, and Maximum Packet Size holds both ways.
 */
const test = suite<{ broker: TestBroker }>('mqtt5: flow control')

const brokerWith = brokerPerTest(test)

test('[MQTT-3.3.4-9][MQTT-4.9.0-1][MQTT-4.9.0-2] with Receive Maximum 2 and no acknowledgements, only 2 QoS 1 messages are in flight; each PUBACK lets one more through, in order', async ({ broker }) => {
  const { client } = await acceptedV5(broker, { clientId: 'slow-reader', properties: { receiveMaximum: 2 } })
  await rawSubscribe(client, [{ topic: 'flow/q1', qos: 1 }])
  const publisher = await connectClient(broker.url, { protocolVersion: 5 })
  for (let i = 1; i <= 5; i++) await publisher.publishAsync('flow/q1', `m${i}`, { qos: 1 })
  const first = await client.next('publish')
  const second = await client.next('publish')
  await quietFor(400)
  assert.equal(takePublishes(client), [], 'no third message while two are unacknowledged')
  assert.equal([first, second].map(packet => packet.payload.toString()), ['m1', 'm2'])
  assert.is(broker.broker.sessions.get('slow-reader')?.queue.length, 3, 'three wait in the broker')

  client.send({ cmd: 'puback', messageId: first.messageId! })
  const third = await client.next('publish')
  assert.is(third.payload.toString(), 'm3')
  await quietFor(300)
  assert.equal(takePublishes(client), [], 'one PUBACK frees one slot')

  client.send({ cmd: 'puback', messageId: second.messageId! })
  client.send({ cmd: 'puback', messageId: third.messageId! })
  const rest = [await client.next('publish'), await client.next('publish')]
  assert.equal(rest.map(packet => packet.payload.toString()), ['m4', 'm5'])
})

test('[MQTT-3.3.4-9] the Receive Maximum window counts a QoS 2 delivery until its PUBCOMP', async ({ broker }) => {
  const { client } = await acceptedV5(broker, { clientId: 'q2-window', properties: { receiveMaximum: 1 } })
  await rawSubscribe(client, [{ topic: 'flow/q2', qos: 2 }])
  const publisher = await connectClient(broker.url, { protocolVersion: 5 })
  await publisher.publishAsync('flow/q2', 'first', { qos: 2 })
  await publisher.publishAsync('flow/q2', 'second', { qos: 2 })
  const first = await client.next('publish')
  assert.is(first.payload.toString(), 'first')
  client.send({ cmd: 'pubrec', messageId: first.messageId! })
  await client.next('pubrel')
  await quietFor(300)
  assert.equal(takePublishes(client), [], 'PUBREC alone does not free the slot')
  client.send({ cmd: 'pubcomp', messageId: first.messageId! })
  const second = await client.next('publish')
  assert.is(second.payload.toString(), 'second')
})

test('[MQTT-3.3.4-10][MQTT-4.9.0-3] with the Receive Maximum window full, SUBACK, UNSUBACK, PINGRESP and QoS 0 messages still flow', async ({ broker }) => {
  const { client } = await acceptedV5(broker, { clientId: 'full-window', properties: { receiveMaximum: 1 } })
  await rawSubscribe(client, [{ topic: 'full/#', qos: 1 }])
  const publisher = await connectClient(broker.url, { protocolVersion: 5 })
  await publisher.publishAsync('full/q1', 'holds the slot', { qos: 1 })
  await publisher.publishAsync('full/q1', 'waits', { qos: 1 })
  const held = await client.next('publish')
  assert.is(held.payload.toString(), 'holds the slot')
  client.send({ cmd: 'subscribe', messageId: 2, subscriptions: [{ topic: 'other/t', qos: 0 }] })
  assert.is((await client.next('suback')).messageId, 2)
  client.send({ cmd: 'unsubscribe', messageId: 3, unsubscriptions: ['other/t'] })
  assert.is((await client.next('unsuback')).messageId, 3)
  client.send({ cmd: 'pingreq' })
  await client.next('pingresp')
  await publisher.publishAsync('full/q0', 'at most once', { qos: 0 })
  const qos0 = await client.next('publish')
  assert.is(qos0.payload.toString(), 'at most once')
  assert.is(qos0.qos, 0)
  assert.equal(takePublishes(client), [], 'the second QoS 1 message still waits')
})

test('[MQTT-3.3.4-7] the broker enforces its Receive Maximum (max-inflight) on inbound QoS 2: one more unreleased PUBLISH gets DISCONNECT 0x93', async () => {
  const broker = await brokerWith({ maxInflight: 3 })
  const watcher = await openV5(broker, { clientId: 'rm-watcher' })
  const { client, connack } = await acceptedV5(broker, { clientId: 'flooder' })
  assert.is(connack.properties?.receiveMaximum, 3)
  for (let id = 1; id <= 3; id++) {
    client.send({ cmd: 'publish', topic: 'flood/t', payload: Buffer.from(String(id)), qos: 2, messageId: id, retain: false, dup: false })
    assert.is((await client.next('pubrec')).messageId, id)
  }
  // Releasing one makes room for one more.
  client.send({ cmd: 'pubrel', messageId: 1 })
  assert.is((await client.next('pubcomp')).messageId, 1)
  client.send({ cmd: 'publish', topic: 'flood/t', payload: Buffer.from('4'), qos: 2, messageId: 4, retain: false, dup: false })
  assert.is((await client.next('pubrec')).messageId, 4)
  // QoS 1 does not count against it.
  client.send({ cmd: 'publish', topic: 'flood/t', payload: Buffer.from('q1'), qos: 1, messageId: 9, retain: false, dup: false })
  assert.is((await client.next('puback')).messageId, 9)
  client.send({ cmd: 'publish', topic: 'flood/t', payload: Buffer.from('5'), qos: 2, messageId: 5, retain: false, dup: false })
  await serverDisconnect(client, 0x93)
  assert.is(watcher.client.connected, true, 'others are served on')
})

test('[MQTT-3.2.2-15] a packet larger than max-packet-size from a v5 client gets DISCONNECT 0x95 (Packet too large); others are served on', async () => {
  const broker = await brokerWith({ maxPacketSize: 1024 })
  const watcher = await openV5(broker, { clientId: 'size-watcher' })
  await watcher.client.subscribeAsync('big/#', { qos: 1 })
  const { client, connack } = await acceptedV5(broker, { clientId: 'too-big' })
  assert.is(connack.properties?.maximumPacketSize, 1024)
  client.send({ cmd: 'publish', topic: 'big/ok', payload: Buffer.alloc(900, 0x61), qos: 1, messageId: 1, retain: false, dup: false })
  assert.is((await client.next('puback')).messageId, 1)
  client.send({ cmd: 'publish', topic: 'big/too', payload: Buffer.alloc(2000, 0x62), qos: 1, messageId: 2, retain: false, dup: false })
  await serverDisconnect(client, 0x95)
  await eventually(() => watcher.received.length === 1, 'the message within the limit')
  assert.is(watcher.received[0]!.topic, 'big/ok')
  await watcher.client.publishAsync('big/after', 'still here', { qos: 1 })
  await eventually(() => watcher.received.length === 2, 'the broker serving on')
})

test('[MQTT-3.1.2-24][MQTT-3.1.2-25] a message larger than a client\'s Maximum Packet Size is not sent to that client (others get it) and is handled as if sent', async ({ broker }) => {
  const { client: small } = await acceptedV5(broker, { clientId: 'small', properties: { maximumPacketSize: 256, receiveMaximum: 1 } })
  await rawSubscribe(small, [{ topic: 'sized/#', qos: 1 }])
  const large = await openV5(broker, { clientId: 'large' })
  await large.client.subscribeAsync('sized/#', { qos: 1 })
  const publisher = await connectClient(broker.url, { protocolVersion: 5 })
  await publisher.publishAsync('sized/big', Buffer.alloc(500, 0x78), { qos: 1 })
  await publisher.publishAsync('sized/big0', Buffer.alloc(500, 0x79), { qos: 0 })
  await publisher.publishAsync('sized/small', 'fits', { qos: 1 })
  await eventually(() => large.received.length === 3, 'all three to the client without a limit')
  // With Receive Maximum 1, the small message could not arrive if the dropped one held the slot.
  const delivered = await small.next('publish')
  assert.is(delivered.topic, 'sized/small')
  assert.ok((delivered.length ?? 0) + 2 <= 256)
  await quietFor(200)
  assert.equal(takePublishes(small), [])
  assert.is(broker.broker.counters.dropped['too-large'], 2, 'both oversized deliveries counted')
  assert.is(small.connectionClosed, false)
})

test('[MQTT-3.1.2-24][MQTT-3.2.2-19][MQTT-3.2.2-20][MQTT-3.4.2-2][MQTT-3.4.2-3][MQTT-3.5.2-2][MQTT-3.5.2-3][MQTT-3.6.2-2][MQTT-3.6.2-3][MQTT-3.7.2-2][MQTT-3.7.2-3][MQTT-3.9.2-1][MQTT-3.9.2-2][MQTT-3.11.2-1][MQTT-3.11.2-2] CONNACK and every acknowledgement fit a small client Maximum Packet Size, failure reason codes included', async ({ broker }) => {
  const limit = 32
  const client = await WireClient.connect(broker.port)
  client.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clean: true, clientId: 'small-acks', keepalive: 60, properties: { maximumPacketSize: limit } })
  await client.waitFor(() => client.packets.find(packet => packet.cmd === 'connack'), 'CONNACK')
  client.send({ cmd: 'publish', topic: 'nobody/here', payload: Buffer.from('x'), qos: 1, messageId: 1, retain: false, dup: false })
  client.send({ cmd: 'publish', topic: 'nobody/here', payload: Buffer.from('x'), qos: 2, messageId: 2, retain: false, dup: false })
  client.send({ cmd: 'publish', topic: 'bad/format', payload: Buffer.from([0xff]), qos: 1, messageId: 3, retain: false, dup: false, properties: { payloadFormatIndicator: true } })
  client.send({ cmd: 'pubrel', messageId: 2 })
  client.send({ cmd: 'pubrel', messageId: 99 })
  client.send({ cmd: 'pubrec', messageId: 98 })
  client.send({ cmd: 'subscribe', messageId: 4, subscriptions: [{ topic: 'a/#/b', qos: 1 }, { topic: 'ok/t', qos: 1 }] })
  client.send({ cmd: 'unsubscribe', messageId: 5, unsubscriptions: ['never/there'] })
  await client.waitFor(() => client.packets.find(packet => packet.cmd === 'unsuback'), 'UNSUBACK')
  assert.equal(client.packets.map(packet => packet.cmd), ['connack', 'puback', 'pubrec', 'puback', 'pubcomp', 'pubcomp', 'pubrel', 'suback', 'unsuback'])
  for (const frame of client.frames) assert.ok(frame.length <= limit, `a ${frame.length}-byte packet (type ${frame[0]! >> 4}) exceeds the client's ${limit}`)
})

test('[MQTT-3.1.2-24][MQTT-3.14.2-3][MQTT-3.14.2-4] the broker\'s own DISCONNECT fits the client\'s Maximum Packet Size: its Reason String is left out when it would not', async ({ broker }) => {
  const limit = 40
  const client = await WireClient.connect(broker.port)
  client.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clean: true, clientId: 'tiny', keepalive: 60, properties: { maximumPacketSize: limit } })
  await client.waitFor(() => client.packets.find(packet => packet.cmd === 'connack'), 'CONNACK')
  client.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'a/b', qos: 0 }], properties: { subscriptionIdentifier: 0 } })
  const disconnect = await client.waitFor(() => client.packets.find(packet => packet.cmd === 'disconnect'), 'DISCONNECT')
  assert.is(disconnect.cmd === 'disconnect' ? disconnect.reasonCode : undefined, 0x82)
  for (const frame of client.frames) assert.ok(frame.length <= limit, `a ${frame.length}-byte packet (type ${frame[0]! >> 4}) exceeds the client's ${limit}`)

  // A client with room for it gets the reason string.
  const roomy = await RawClient.connect(broker.port, 5)
  await roomy.handshake({ protocolId: 'MQTT', protocolVersion: 5, clientId: 'roomy', properties: { maximumPacketSize: 1000 } })
  roomy.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'a/b', qos: 0 }], properties: { subscriptionIdentifier: 0 } })
  const explained = await serverDisconnect(roomy, 0x82)
  assert.type(explained.properties?.reasonString, 'string')
})

test.run()
