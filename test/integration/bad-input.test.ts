import { connect, type Socket } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import mqttPacket from 'mqtt-packet'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { closeAllClients, collect, connectClient, eventually } from '../helpers/mqtt-clients.js'
import { RawClient } from '../helpers/raw-client.js'
import { assertStillServing } from '../helpers/still-serving.js'
import { startBroker, type TestBroker } from '../helpers/test-broker.js'

/**
 * Bad input that is not a malformed packet: clients that are slow, silent, half-gone or too
 * many at once, a header announcing the largest packet MQTT allows, and topic trees deeper
 * and wider than any real client's. The broker must shed each without falling over.
 *
 * Covered elsewhere and not repeated here: a CONNECT trickled in one byte at a time but in
 * time is accepted, and a socket that never sends CONNECT (or half of one) is closed at the
 * connect timeout (connect.test.ts); a silent client is dropped at 1.5 x keep-alive
 * (will-and-keepalive.test.ts); a header over a configured max-packet-size is refused before
 * its body arrives, and a subscriber that stops reading gets its QoS 0 dropped (limits.test.ts).
 */
const test = suite<{ broker?: TestBroker }>('bad input')

test.after.each(async context => {
  RawClient.closeAll()
  await closeAllClients()
  await context.broker?.close()
  context.broker = undefined
})

const CONNECT_3_1_1 = mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'slowloris', clean: true, keepalive: 60 })

test('slowloris: a CONNECT trickled in one byte per 100 ms is cut off at the connect timeout (1 s), unanswered', async context => {
  const broker = context.broker = await startBroker({ connectTimeout: 1 })
  const raw = await RawClient.connect(broker.port)
  const started = Date.now()
  let sent = 0
  for (const byte of CONNECT_3_1_1) {
    if (raw.connectionClosed) break
    raw.sendBytes([byte])
    sent++
    await sleep(100)
  }
  const closedAfterMs = Date.now() - started
  assert.ok(raw.connectionClosed, 'the broker closed the connection')
  assert.ok(sent < CONNECT_3_1_1.length, `the CONNECT never completed (${sent} of ${CONNECT_3_1_1.length} bytes sent)`)
  assert.ok(closedAfterMs < 2500, `closed ${closedAfterMs} ms after the first byte: trickling bytes does not stretch the timeout`)
  assert.equal(raw.received, [], 'no CONNACK')
  assert.ok(broker.logs.some(line => line.reason === 'connect-timeout'), 'the log says the connect timeout ran out')
  await assertStillServing(broker)
})

test('half-open: a client that sends CONNECT, then neither reads nor writes nor closes, is dropped at keep-alive', async context => {
  const broker = context.broker = await startBroker({ connectTimeout: 1 })
  const raw = await RawClient.connect(broker.port)
  await raw.handshake({ clientId: 'half-open', keepalive: 1 })
  raw.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'half-open/#', qos: 0 }] })
  await raw.next('suback')
  raw.pause()
  // Messages keep coming for it, so the broker has writes pending to a client that reads none.
  const publisher = await connectClient(broker.url)
  for (let i = 0; i < 200; i++) publisher.publish('half-open/data', Buffer.alloc(16 * 1024))
  await eventually(() => broker.logs.some(line => line.clientId === 'half-open' && line.reason === 'keepalive-timeout'), 'the keep-alive (1 s) to expire', 5000)
  assert.not.ok([...broker.broker.connections].some(connection => connection.clientId === 'half-open'), 'the broker no longer holds the connection')
  raw.resume()
  assert.ok(await raw.closesWithin(3000), 'once the client reads again, it finds the connection closed')
  await assertStillServing(broker)
})

test('half-open: a socket that never sends CONNECT and never reads is dropped at the connect timeout', async context => {
  const broker = context.broker = await startBroker({ connectTimeout: 1 })
  const raw = await RawClient.connect(broker.port)
  raw.pause()
  await eventually(() => broker.logs.some(line => line.reason === 'connect-timeout'), 'the connect timeout (1 s)', 3000)
  assert.is(broker.broker.connections.size, 0, 'the broker no longer holds the connection')
  raw.resume()
  assert.ok(await raw.closesWithin(3000), 'once the client reads again, it finds the connection closed')
  assert.equal(raw.received, [], 'nothing was sent to it')
})

test('a flood of 500 connections opened at once (half with a CONNECT, half silent): the broker keeps answering a separate client, then lets all of them go', async context => {
  const broker = context.broker = await startBroker({ connectTimeout: 1 })
  const flood: Socket[] = []
  const opened = Array.from({ length: 500 }, async (_, index) => {
    const socket = connect({ host: '127.0.0.1', port: broker.port })
    flood.push(socket)
    socket.on('error', () => {})
    socket.on('data', () => {})
    await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject) })
    if (index % 2 === 0) socket.write(mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: `flood-${index}`, clean: true, keepalive: 60 }))
  })
  const started = Date.now()
  await assertStillServing(broker)
  const servedAfterMs = Date.now() - started
  await Promise.all(opened)
  assert.ok(servedAfterMs < 3000, `a QoS 1 round trip took ${servedAfterMs} ms while 500 connections opened`)
  await eventually(() => broker.broker.sessions.get('flood-498') !== undefined, 'the flood\'s CONNECTs to be accepted')
  await assertStillServing(broker)
  for (const socket of flood) socket.destroy()
  await closeAllClients()
  await eventually(() => broker.broker.connections.size === 0, `every connection to be let go (${broker.broker.connections.size} left)`)
})

// The largest Remaining Length MQTT can encode (268,435,455) makes a packet of 268,435,460
// bytes with its header: more than the default max-packet-size (268,435,455), so the header
// alone is enough to refuse it, before any of 256 MB is buffered.
const LARGEST_REMAINING_LENGTH = [0xff, 0xff, 0xff, 0x7f]

test('a PUBLISH header announcing the largest Remaining Length is refused from the header, with the default max-packet-size', async context => {
  const broker = context.broker = await startBroker()
  const raw = await RawClient.connect(broker.port)
  await raw.handshake({ clientId: 'huge' })
  raw.sendBytes([0x30, ...LARGEST_REMAINING_LENGTH, 0x00, 0x01, 0x74])
  assert.ok(await raw.closesWithin(2000), 'closed without waiting for 256 MB')
  assert.ok(broker.logs.some(line => line.clientId === 'huge' && line.reason === 'packet-too-large'), 'the log says the packet was too large')
  await assertStillServing(broker)
})

test('a first packet announcing the largest Remaining Length is refused from the header, not left to the connect timeout', async context => {
  const broker = context.broker = await startBroker()
  const raw = await RawClient.connect(broker.port)
  raw.sendBytes([0x10, ...LARGEST_REMAINING_LENGTH, 0x00, 0x04])
  assert.ok(await raw.closesWithin(2000), 'closed well before the 10 s connect timeout')
  assert.ok(broker.logs.some(line => line.reason === 'packet-too-large'), 'the log says the packet was too large')
  await assertStillServing(broker)
})

test('a Remaining Length of five bytes (no valid encoding is that long) closes the connection at once', async context => {
  const broker = context.broker = await startBroker()
  const raw = await RawClient.connect(broker.port)
  await raw.handshake({ clientId: 'five-bytes' })
  raw.sendBytes([0x30, 0xff, 0xff, 0xff, 0xff, 0x01, 0x00])
  assert.ok(await raw.closesWithin(2000), 'closed at once')
  assert.ok(broker.logs.some(line => line.clientId === 'five-bytes' && line.reason === 'malformed-packet'), 'the log says the packet was malformed')
  await assertStillServing(broker)
})

for (const level of [4, 5] as const) {
  test(`[MQTT-3.10.3-2] MQTT ${level === 5 ? '5.0' : '3.1.1'}: an UNSUBSCRIBE without topic filters closes the connection, and the broker lets go of it`, async context => {
    const broker = context.broker = await startBroker()
    const raw = await RawClient.connect(broker.port, level)
    await raw.handshake({ clientId: `empty-unsubscribe-${level}`, protocolVersion: level })
    // Packet id 1 and, for 5.0, an empty property section: then nothing.
    raw.sendBytes(level === 5 ? [0xa2, 0x03, 0x00, 0x01, 0x00] : [0xa2, 0x02, 0x00, 0x01])
    assert.ok(await raw.closesWithin(2000), 'the broker closes the connection')
    assert.not.ok(raw.received.some(packet => packet.cmd === 'unsuback'), 'no UNSUBACK')
    assert.is(broker.broker.connections.size, 0, 'the broker holds no connection')
    assert.not.ok(broker.logs.some(line => line.level >= 50), `no error logged: ${JSON.stringify(broker.logs.filter(line => line.level >= 50))}`)
    await assertStillServing(broker)
  })
}

test('a topic and filters 128 levels deep (max-topic-levels, its default) are routed like any other', async context => {
  const broker = context.broker = await startBroker()
  const levels = Array.from({ length: 128 }, (_, index) => `l${index}`)
  const topic = levels.join('/')
  const subscriber = await connectClient(broker.url)
  const received = collect(subscriber)
  await subscriber.subscribeAsync([topic, levels.map(() => '+').join('/'), [...levels.slice(0, 64), '#'].join('/')], { qos: 1 })
  const publisher = await connectClient(broker.url)
  await publisher.publishAsync(topic, 'deep', { qos: 1, retain: true })
  // One copy per matching subscription would be three; MQTT 3.1.1 allows one or several, so wait for at least one.
  await eventually(() => received.length >= 1, 'the deep message')
  assert.is(received[0]!.topic, topic)
  const late = await connectClient(broker.url)
  const retained = collect(late)
  await late.subscribeAsync('l0/#', { qos: 1 })
  await eventually(() => retained.length === 1, 'the deep retained message')
  await assertStillServing(broker)
})

test('a topic and filters 1,000 levels deep are refused (max-topic-levels 128): the filter gets SUBACK 0x80, the publisher is closed, nothing is routed, the broker serves on', async context => {
  const broker = context.broker = await startBroker()
  const levels = Array.from({ length: 1000 }, (_, index) => `l${index}`)
  const topic = levels.join('/')
  const subscriber = await RawClient.connect(broker.port)
  await subscriber.handshake({ clientId: 'deep-subscriber' })
  subscriber.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic, qos: 1 }, { topic: levels.map(() => '+').join('/'), qos: 1 }, { topic: 'l0/#', qos: 1 }] })
  assert.equal((await subscriber.next('suback')).granted, [0x80, 0x80, 1])
  const publisher = await RawClient.connect(broker.port)
  await publisher.handshake({ clientId: 'deep-publisher' })
  publisher.send({ cmd: 'publish', topic, payload: Buffer.from('deep'), qos: 1, messageId: 1, retain: true, dup: false })
  assert.ok(await publisher.closesWithin(5000), 'MQTT 3.1.1 cannot refuse a PUBLISH: the connection closes')
  assert.is(publisher.received.length, 0, 'not acknowledged')
  assert.is(subscriber.received.filter(packet => packet.cmd === 'publish').length, 0, 'not routed')
  assert.is(broker.broker.counters.limited['max-topic-levels'], 3)
  await assertStillServing(broker)
})

test('10,000 distinct subscriptions and 10,000 distinct retained topics: every message arrives and the broker keeps serving', async context => {
  const broker = context.broker = await startBroker()
  const COUNT = 10_000
  const subscriber = await connectClient(broker.url)
  const received = collect(subscriber)
  for (let batch = 0; batch < COUNT; batch += 500) {
    await subscriber.subscribeAsync(Array.from({ length: 500 }, (_, index) => `wide/${batch + index}/+`), { qos: 0 })
  }
  const publisher = await connectClient(broker.url)
  for (let index = 0; index < COUNT; index++) {
    publisher.publish(`wide/${index}/leaf`, String(index), { qos: 0, retain: true })
    if (index % 1000 === 999) await publisher.publishAsync('wide/pace', '', { qos: 1 }) // lets the socket drain
  }
  await eventually(() => received.length >= COUNT, `all ${COUNT} messages (${received.length} so far)`, 20_000)
  const late = await connectClient(broker.url)
  const retained = collect(late)
  await late.subscribeAsync('wide/#', { qos: 0 })
  await eventually(() => retained.length === COUNT, `all ${COUNT} retained messages (${retained.length} so far)`, 20_000)
  await assertStillServing(broker)
})

test.run()
