import type { IConnectPacket } from 'mqtt-packet'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { connectClient, eventually, quietFor } from '../helpers/mqtt-clients.js'
import { acceptedV5, openV5, rawSubscribe, serverDisconnect, takePublishes } from '../helpers/mqtt5-clients.js'
import { connectBytes, property, propertySection, propertyValue, WireClient } from '../helpers/mqtt5-wire.js'
import { RawClient } from '../helpers/raw-client.js'
import type { TestBroker } from '../helpers/test-broker.js'
import { brokerPerTest } from '../helpers/broker-per-test.js'

/**
 * MQTT 5 sessions and wills over real TCP (MQTT 5.0 sections 3.1.2.5, 3.1.2.11, 3.1.3.2,
 * 3.14.2, 4.1): how long a session outlives its connection, how DISCONNECT changes that, and
 * when a will with a Will Delay Interval is published, or not.
 */
const test = suite<{ broker: TestBroker }>('mqtt5: sessions and wills')

brokerPerTest(test)

type Will = NonNullable<IConnectPacket['will']>

async function offline (broker: TestBroker, clientId: string): Promise<void> {
  await eventually(() => broker.broker.sessions.get(clientId)?.online === false, `${clientId}'s session to go offline`)
}

/** A v5 RawClient with a session of `expiry` seconds and, optionally, a will. */
async function persistent (broker: TestBroker, clientId: string, expiry: number, will?: Will): Promise<RawClient> {
  const { client } = await acceptedV5(broker, { clientId, clean: false, properties: { sessionExpiryInterval: expiry }, ...(will === undefined ? {} : { will }) })
  return client
}

/** An MQTT.js v5 client watching `filter`, with the time each message arrived. */
async function watch (broker: TestBroker, filter: string): Promise<{ arrivals: Array<{ topic: string, payload: string, at: number, retain: boolean }> }> {
  const watcher = await openV5(broker, { clientId: `watcher-${filter.replace(/[^a-z]/g, '')}` })
  const arrivals: Array<{ topic: string, payload: string, at: number, retain: boolean }> = []
  watcher.client.on('message', (topic, payload, packet) => arrivals.push({ topic, payload: payload.toString(), at: Date.now(), retain: packet.retain }))
  await watcher.client.subscribeAsync(filter, { qos: 1 })
  return { arrivals }
}

function will (topic: string, payload: string, delay: number, extra: Partial<Will> = {}): Will {
  return { topic, payload: Buffer.from(payload), qos: 1, retain: false, properties: { willDelayInterval: delay }, ...extra }
}

test('[MQTT-3.1.2-23][MQTT-4.1.0-2] a session with expiry 2 s outlives its connection: a QoS 1 message queued meanwhile arrives on reconnect; after 2 s offline it is gone', async ({ broker }) => {
  const first = await persistent(broker, 'expiring', 2)
  await rawSubscribe(first, [{ topic: 'expiring/t', qos: 1 }])
  first.end()
  await offline(broker, 'expiring')
  const publisher = await connectClient(broker.url, { protocolVersion: 5 })
  await publisher.publishAsync('expiring/t', 'queued while away', { qos: 1 })

  const back = await acceptedV5(broker, { clientId: 'expiring', clean: false, properties: { sessionExpiryInterval: 2 } })
  assert.is(back.connack.sessionPresent, true, 'back within the expiry: session present')
  const queued = await back.client.next('publish')
  assert.is(queued.payload.toString(), 'queued while away')
  back.client.send({ cmd: 'puback', messageId: queued.messageId! })

  back.client.end()
  await offline(broker, 'expiring')
  const left = Date.now()
  await quietFor(1000)
  assert.ok(broker.broker.sessions.get('expiring') !== undefined, 'still there 1 s into a 2 s expiry')
  await publisher.publishAsync('expiring/t', 'for a session about to expire', { qos: 1 })
  await eventually(() => broker.broker.sessions.get('expiring') === undefined, 'the session to expire', 5000)
  const lived = Date.now() - left
  assert.ok(lived >= 1900, `the session lived ${lived}ms, at least its 2 s expiry`)

  const late = await acceptedV5(broker, { clientId: 'expiring', clean: false, properties: { sessionExpiryInterval: 2 } })
  assert.is(late.connack.sessionPresent, false, 'after the expiry: a new session')
  await quietFor(300)
  assert.equal(takePublishes(late.client), [], 'nothing of the expired session is delivered')
})

test('[MQTT-4.1.0-1] a session with a short expiry is not discarded while its connection stays open', async ({ broker }) => {
  const client = await persistent(broker, 'staying', 1)
  await rawSubscribe(client, [{ topic: 'staying/t', qos: 1 }])
  await quietFor(1600)
  const publisher = await connectClient(broker.url, { protocolVersion: 5 })
  await publisher.publishAsync('staying/t', 'still subscribed', { qos: 1 })
  const message = await client.next('publish')
  assert.is(message.payload.toString(), 'still subscribed')
})

test('DISCONNECT may shorten the Session Expiry Interval: 60 s in CONNECT, 1 s in DISCONNECT ends the session about 1 s later', async ({ broker }) => {
  const client = await persistent(broker, 'shortened', 60)
  client.send({ cmd: 'disconnect', reasonCode: 0, properties: { sessionExpiryInterval: 1 } })
  assert.ok(await client.closesWithin(3000))
  await offline(broker, 'shortened')
  await eventually(() => broker.broker.sessions.get('shortened') === undefined, 'the session to expire after the interval DISCONNECT set', 4000)
})

test('DISCONNECT with Session Expiry Interval 0 ends a persistent session at once', async ({ broker }) => {
  const client = await persistent(broker, 'ended', 60)
  await rawSubscribe(client, [{ topic: 'ended/t', qos: 1 }])
  client.send({ cmd: 'disconnect', reasonCode: 0, properties: { sessionExpiryInterval: 0 } })
  await eventually(() => broker.broker.sessions.get('ended') === undefined, 'the session to end with the connection', 1000)
  const back = await acceptedV5(broker, { clientId: 'ended', clean: false })
  assert.is(back.connack.sessionPresent, false)
})

test('DISCONNECT may lengthen a non-zero Session Expiry Interval: 1 s in CONNECT, 30 s in DISCONNECT, the session is still there after 2 s', async ({ broker }) => {
  const client = await persistent(broker, 'lengthened', 1)
  await rawSubscribe(client, [{ topic: 'lengthened/t', qos: 1 }])
  client.send({ cmd: 'disconnect', reasonCode: 0, properties: { sessionExpiryInterval: 30 } })
  await offline(broker, 'lengthened')
  await quietFor(2000)
  const back = await acceptedV5(broker, { clientId: 'lengthened', clean: false, properties: { sessionExpiryInterval: 30 } })
  assert.is(back.connack.sessionPresent, true)
})

test('[MQTT-4.13.1-1] DISCONNECT setting a non-zero Session Expiry Interval after CONNECT set 0 is a Protocol Error: the broker answers DISCONNECT 0x82 and keeps no session', async ({ broker }) => {
  const { client } = await acceptedV5(broker, { clientId: 'sneaky', clean: false })
  await rawSubscribe(client, [{ topic: 'sneaky/t', qos: 1 }])
  client.send({ cmd: 'disconnect', reasonCode: 0, properties: { sessionExpiryInterval: 60 } })
  await serverDisconnect(client, 0x82)
  await eventually(() => broker.broker.sessions.get('sneaky') === undefined, 'the session (expiry 0) to end')
})

test('[MQTT-3.1.3-9][MQTT-3.1.2-8] a client that reconnects within its Will Delay Interval has its will not sent', async ({ broker }) => {
  const { arrivals } = await watch(broker, 'wills/#')
  const client = await persistent(broker, 'returner', 60, will('wills/returner', 'gone', 2))
  client.end()
  await offline(broker, 'returner')
  await quietFor(300)
  const back = await acceptedV5(broker, { clientId: 'returner', clean: false, properties: { sessionExpiryInterval: 60 } })
  assert.is(back.connack.sessionPresent, true)
  await quietFor(2500)
  assert.equal(arrivals, [], 'no will: the client came back in time')
})

test('[MQTT-3.1.2-7][MQTT-3.1.2-8] a will with Will Delay Interval 1 s is published about 1 s after the connection is lost, not before', async ({ broker }) => {
  const { arrivals } = await watch(broker, 'wills/#')
  const client = await persistent(broker, 'delayed', 60, will('wills/delayed', 'gone a while', 1))
  const lost = Date.now()
  client.end()
  await quietFor(500)
  assert.equal(arrivals, [], 'not yet: the delay has not passed')
  await eventually(() => arrivals.length === 1, 'the delayed will', 4000)
  assert.is(arrivals[0]!.payload, 'gone a while')
  assert.ok(arrivals[0]!.at - lost >= 900, `published ${arrivals[0]!.at - lost}ms after the loss`)
})

test('[MQTT-3.1.2-8] a will whose session ends before its delay is published when the session ends (expiry 1 s, delay 60 s)', async ({ broker }) => {
  const { arrivals } = await watch(broker, 'wills/#')
  const client = await persistent(broker, 'short-session', 1, will('wills/short-session', 'session over', 60))
  const lost = Date.now()
  client.end()
  await eventually(() => arrivals.length === 1, 'the will at the session\'s end', 4000)
  const after = arrivals[0]!.at - lost
  assert.ok(after >= 900, `published ${after}ms after the loss, when the session ended`)
  assert.is(broker.broker.sessions.get('short-session'), undefined)
})

test('[MQTT-3.1.2-8] a will with a delay on a session with expiry 0 is published as soon as the connection is lost', async ({ broker }) => {
  const { arrivals } = await watch(broker, 'wills/#')
  const { client } = await acceptedV5(broker, { clientId: 'no-session', will: will('wills/no-session', 'right away', 30) })
  client.end()
  await eventually(() => arrivals.length === 1, 'the will', 1500)
})

test('[MQTT-3.1.2-10] a will is published once: not again when the session expires after its delay ran out', async ({ broker }) => {
  const { arrivals } = await watch(broker, 'wills/#')
  const client = await persistent(broker, 'once', 2, will('wills/once', 'only once', 1))
  client.end()
  await offline(broker, 'once')
  await eventually(() => broker.broker.sessions.get('once') === undefined, 'the session to expire', 5000)
  await quietFor(300)
  assert.equal(arrivals.map(arrival => arrival.payload), ['only once'])
})

test('[MQTT-3.14.4-3][MQTT-3.1.2-10] DISCONNECT 0x00 discards the will, also one waiting for its delay', async ({ broker }) => {
  const { arrivals } = await watch(broker, 'wills/#')
  const client = await persistent(broker, 'polite', 60, will('wills/polite', 'must not appear', 1))
  client.send({ cmd: 'disconnect', reasonCode: 0 })
  assert.ok(await client.closesWithin(3000))
  const immediate = await acceptedV5(broker, { clientId: 'polite-now', will: will('wills/polite-now', 'must not appear', 0) })
  immediate.client.send({ cmd: 'disconnect', reasonCode: 0 })
  await quietFor(2000)
  assert.equal(arrivals, [])
})

test('DISCONNECT with reason 0x04 (Disconnect with Will Message) publishes the will', async ({ broker }) => {
  const { arrivals } = await watch(broker, 'wills/#')
  const { client } = await acceptedV5(broker, { clientId: 'asks-for-will', will: will('wills/asks', 'as requested', 0) })
  client.send({ cmd: 'disconnect', reasonCode: 0x04 })
  await eventually(() => arrivals.length === 1, 'the will the client asked for')
  assert.is(arrivals[0]!.payload, 'as requested')
  assert.is(client.received.find(packet => packet.cmd === 'disconnect'), undefined, 'the broker does not answer a client DISCONNECT')
})

test('[MQTT-3.14.4-3][MQTT-3.1.2-8] DISCONNECT in its short forms (Remaining Length 0, or a reason code alone) is read as sent: 0x00 discards the will, 0x04 and an error code (0x80) publish it', async ({ broker }) => {
  const { arrivals } = await watch(broker, 'wills/#')
  const forms: Array<[string, number[]]> = [['empty', [0xe0, 0x00]], ['normal', [0xe0, 0x01, 0x00]], ['with-will', [0xe0, 0x01, 0x04]], ['error', [0xe0, 0x01, 0x80]]]
  for (const [name, bytes] of forms) {
    const { client } = await acceptedV5(broker, { clientId: `short-${name}`, will: will(`wills/${name}`, name, 0) })
    client.sendBytes(Buffer.from(bytes))
    assert.ok(await client.closesWithin(3000))
    assert.is(client.received.find(packet => packet.cmd === 'disconnect'), undefined, `no DISCONNECT back: the ${name} form is well-formed`)
  }
  await eventually(() => arrivals.length === 2, 'two wills')
  await quietFor(300)
  assert.equal(arrivals.map(arrival => arrival.topic).sort(), ['wills/error', 'wills/with-will'])
})

test('[MQTT-3.1.2-14][MQTT-3.1.2-15] a will with Will Retain 0 is published non-retained, one with Will Retain 1 is retained', async ({ broker }) => {
  const { arrivals } = await watch(broker, 'wills/#')
  const plain = await acceptedV5(broker, { clientId: 'plain-will', will: will('wills/plain', 'not kept', 0) })
  const kept = await acceptedV5(broker, { clientId: 'kept-will', will: will('wills/kept', 'kept', 0, { retain: true }) })
  plain.client.end()
  kept.client.end()
  await eventually(() => arrivals.length === 2, 'both wills')
  const later = await openV5(broker, { clientId: 'later' })
  await later.client.subscribeAsync('wills/#', { qos: 1 })
  await eventually(() => later.received.length === 1, 'the retained will')
  assert.is(later.received[0]!.topic, 'wills/kept')
  assert.is(later.received[0]!.retain, true)
  await quietFor(200)
  assert.is(later.received.length, 1, 'the non-retained will was not stored')
})

test('[MQTT-3.1.3-10] will properties reach subscribers unchanged, user properties in their original order', async ({ broker }) => {
  const subscriber = await WireClient.connect(broker.port)
  subscriber.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clean: true, clientId: 'will-reader', keepalive: 60 })
  subscriber.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'wills/#', qos: 1 }] })
  await subscriber.waitFor(() => subscriber.packets.find(packet => packet.cmd === 'suback'), 'SUBACK')

  const client = await RawClient.connect(broker.port, 5)
  client.sendBytes(connectBytes({
    clientId: 'propertied',
    flags: 0x02 | 0x04 | (1 << 3),
    will: {
      topic: 'wills/propertied',
      payload: 'héllo',
      properties: propertySection(
        property.userProperty('z', 'first'),
        property.payloadFormatIndicator(1),
        property.userProperty('a', 'second'),
        property.contentType('text/plain; charset=utf-8'),
        property.responseTopic('replies/propertied'),
        property.correlationData(Buffer.from([0, 1, 2, 0xff])),
        property.userProperty('z', 'third'),
        property.messageExpiryInterval(600),
        property.willDelayInterval(0)
      )
    }
  }))
  assert.is((await client.next('connack')).reasonCode, 0)
  client.end()

  const [message] = await subscriber.waitFor(() => subscriber.publishes.length > 0 ? subscriber.publishes : undefined, 'the will')
  assert.is(message!.topic, 'wills/propertied')
  assert.is(message!.payload.toString(), 'héllo')
  assert.equal(message!.properties.filter(([name]) => name === 'userProperty').map(([, pair]) => pair), [['z', 'first'], ['a', 'second'], ['z', 'third']])
  assert.is(propertyValue(message!, 'payloadFormatIndicator'), 1)
  assert.is(propertyValue(message!, 'contentType'), 'text/plain; charset=utf-8')
  assert.is(propertyValue(message!, 'responseTopic'), 'replies/propertied')
  assert.equal(propertyValue(message!, 'correlationData'), Buffer.from([0, 1, 2, 0xff]))
  const expiry = propertyValue(message!, 'messageExpiryInterval')
  assert.ok(expiry !== undefined && expiry > 590 && expiry <= 600, `Message Expiry Interval ${String(expiry)}`)
  // readPublish throws on a property a PUBLISH may not carry, so no Will Delay Interval came along.
})

test.run()
