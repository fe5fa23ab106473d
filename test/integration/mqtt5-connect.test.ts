import mqttPacket from 'mqtt-packet'
import { pino } from 'pino'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { Authenticator } from '../../actors/connection/authenticator.js'
import { Broker } from '../../runtime/broker.js'
import { loadConfig } from '../../runtime/config/load-config.js'
import { connectClient, eventually, quietFor } from '../helpers/mqtt-clients.js'
import { acceptedV5, openV5, rawSubscribe, rawV5, serverDisconnect } from '../helpers/mqtt5-clients.js'
import { connectBytes, property, propertySection } from '../helpers/mqtt5-wire.js'
import { RawClient } from '../helpers/raw-client.js'
import { type TestBroker } from '../helpers/test-broker.js'
import { brokerPerTest } from '../helpers/broker-per-test.js'

/**
 * MQTT 5 CONNECT and CONNACK over real TCP (MQTT 5.0 sections 3.1, 3.2, 3.14): the CONNECT
 * properties the broker honours, what CONNACK tells the client about the broker and about
 * what it changed of the request, refusals with a reason code, and the DISCONNECT reasons
 * the broker sends when it ends a connection itself.
 */
const test = suite<{ broker: TestBroker }>('mqtt5: connect')

const brokerWith = brokerPerTest(test)

const generate = (packet: Parameters<typeof mqttPacket.generate>[0]): Buffer => mqttPacket.generate(packet, { protocolVersion: 5 })

test('[MQTT-4.2.0-1][MQTT-3.1.4-5][MQTT-3.2.2-1][MQTT-3.2.2-8] an accepted CONNECT over TCP gets CONNACK 0x00 advertising Receive Maximum, Topic Alias Maximum, Maximum Packet Size and wildcard / subscription identifier support', async () => {
  const broker = await brokerWith({ maxInflight: 7, maxTopicAlias: 5, maxPacketSize: 4096 })
  const { connack } = await acceptedV5(broker, { clientId: 'limits' })
  assert.is(connack.sessionPresent, false)
  const properties = connack.properties ?? {}
  assert.is(properties.receiveMaximum, 7, 'Receive Maximum is max-inflight')
  assert.is(properties.topicAliasMaximum, 5)
  assert.is(properties.maximumPacketSize, 4096)
  assert.is(properties.wildcardSubscriptionAvailable, true)
  assert.is(properties.subscriptionIdentifiersAvailable, true)
  assert.is(properties.assignedClientIdentifier, undefined, 'the client named itself: no assigned id')
  assert.is(properties.serverKeepAlive, undefined, 'the keep-alive was not changed')
  assert.is(properties.sessionExpiryInterval, undefined, 'the session expiry was not changed')
  assert.is(properties.responseInformation, undefined, 'not asked for')
})

test('[MQTT-3.2.0-1][MQTT-3.2.0-2] CONNACK is the first packet the broker sends, and it is sent once, even with packets behind CONNECT in the same write', async ({ broker }) => {
  const client = await RawClient.connect(broker.port, 5)
  client.sendBytes(Buffer.concat([
    generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clean: true, clientId: 'eager', keepalive: 60 }),
    generate({ cmd: 'subscribe', messageId: 3, subscriptions: [{ topic: 'eager/t', qos: 1 }] }),
    generate({ cmd: 'pingreq' })
  ]))
  await client.next('pingresp')
  assert.is(client.received[0]?.cmd, 'connack', 'CONNACK came first')
  assert.is(client.received.filter(packet => packet.cmd === 'connack').length, 1, 'one CONNACK')
  const suback = await client.next('suback')
  assert.is(suback.messageId, 3)
})

test('[MQTT-3.1.2-4][MQTT-3.1.4-4][MQTT-3.1.2-6][MQTT-3.2.2-2][MQTT-3.2.2-3] Clean Start 0 without a session gets session present 0; Clean Start 1 discards an existing session', async ({ broker }) => {
  const first = await acceptedV5(broker, { clientId: 'clean-start', clean: false, properties: { sessionExpiryInterval: 60 } })
  assert.is(first.connack.sessionPresent, false, 'no session existed yet')
  await rawSubscribe(first.client, [{ topic: 'clean-start/t', qos: 1 }])
  first.client.end()
  await eventually(() => broker.broker.sessions.get('clean-start')?.online === false, 'the session to go offline')

  const fresh = await openV5(broker, { clientId: 'clean-start', clean: true, properties: { sessionExpiryInterval: 60 } })
  assert.is(fresh.connack.sessionPresent, false, 'Clean Start 1: session present 0')
  const publisher = await connectClient(broker.url, { protocolVersion: 5 })
  await publisher.publishAsync('clean-start/t', 'to the old subscription', { qos: 1 })
  await quietFor(300)
  assert.equal(fresh.received, [], 'the old subscription went with the discarded session')
})

test('[MQTT-3.1.2-5][MQTT-3.2.2-3][MQTT-3.1.3-2] Clean Start 0 with a session resumes it (found by client id): session present 1 and its subscriptions still deliver', async ({ broker }) => {
  const first = await acceptedV5(broker, { clientId: 'resume5', clean: false, properties: { sessionExpiryInterval: 60 } })
  await rawSubscribe(first.client, [{ topic: 'resume5/t', qos: 1 }])
  first.client.end()
  await eventually(() => broker.broker.sessions.get('resume5')?.online === false, 'the session to go offline')
  const again = await openV5(broker, { clientId: 'resume5', clean: false, properties: { sessionExpiryInterval: 60 } })
  assert.is(again.connack.sessionPresent, true)
  assert.is(again.connack.reasonCode, 0)
  const publisher = await connectClient(broker.url, { protocolVersion: 5 })
  await publisher.publishAsync('resume5/t', 'kept', { qos: 1 })
  await eventually(() => again.received.length === 1, 'delivery through the resumed subscription')
})

test('Session Expiry Interval above max-session-expiry is lowered, and CONNACK reports the interval granted; one within it is not reported', async () => {
  const broker = await brokerWith({ maxSessionExpiry: 120 })
  const never = await acceptedV5(broker, { clientId: 'asks-forever', clean: false, properties: { sessionExpiryInterval: 0xFFFFFFFF } })
  assert.is(never.connack.properties?.sessionExpiryInterval, 120)
  assert.is(broker.broker.sessions.get('asks-forever')?.expiryInterval, 120)
  const long = await acceptedV5(broker, { clientId: 'asks-long', clean: false, properties: { sessionExpiryInterval: 121 } })
  assert.is(long.connack.properties?.sessionExpiryInterval, 120)
  const within = await acceptedV5(broker, { clientId: 'asks-within', clean: false, properties: { sessionExpiryInterval: 30 } })
  assert.is(within.connack.properties?.sessionExpiryInterval, undefined, 'granted as asked: not repeated in CONNACK')
  assert.is(broker.broker.sessions.get('asks-within')?.expiryInterval, 30)
})

test('[MQTT-3.1.2-23] Session Expiry Interval 0xFFFFFFFF keeps the session after the connection closes, and is not lowered by the default limit', async ({ broker }) => {
  const { client, connack } = await acceptedV5(broker, { clientId: 'forever', clean: false, properties: { sessionExpiryInterval: 0xFFFFFFFF } })
  assert.is(connack.properties?.sessionExpiryInterval, undefined)
  await rawSubscribe(client, [{ topic: 'forever/t', qos: 1 }])
  client.end()
  await eventually(() => broker.broker.sessions.get('forever')?.online === false, 'the session to go offline')
  await quietFor(200)
  const back = await acceptedV5(broker, { clientId: 'forever', clean: false, properties: { sessionExpiryInterval: 0xFFFFFFFF } })
  assert.is(back.connack.sessionPresent, true)
})

test('[MQTT-3.1.2-23] Session Expiry Interval 0 (or absent) ends the session with the connection', async ({ broker }) => {
  const { client } = await acceptedV5(broker, { clientId: 'ephemeral', clean: false })
  await rawSubscribe(client, [{ topic: 'ephemeral/t', qos: 1 }])
  client.end()
  await eventually(() => broker.broker.sessions.get('ephemeral') === undefined, 'the session to end with its connection')
  const back = await acceptedV5(broker, { clientId: 'ephemeral', clean: false })
  assert.is(back.connack.sessionPresent, false)
})

test('[MQTT-3.1.3-6][MQTT-3.1.3-7][MQTT-3.2.2-16] an empty client id gets an Assigned Client Identifier, unique per client, with Clean Start 1 and with Clean Start 0', async ({ broker }) => {
  const one = await acceptedV5(broker, { clientId: '', clean: true })
  const two = await acceptedV5(broker, { clientId: '', clean: true })
  // mqtt-packet will not write an empty client id with Clean Start 0, so that CONNECT is built by hand.
  const threeClient = await RawClient.connect(broker.port, 5)
  threeClient.sendBytes(connectBytes({ clientId: '', flags: 0x00, properties: propertySection(property.sessionExpiryInterval(60)) }))
  const three = { client: threeClient, connack: await threeClient.next('connack') }
  assert.is(three.connack.reasonCode, 0)
  const ids = [one, two, three].map(({ connack }) => connack.properties?.assignedClientIdentifier)
  for (const id of ids) assert.type(id, 'string')
  for (const id of ids) assert.ok(id!.length > 0, 'a non-empty id')
  assert.is(new Set(ids).size, 3, `three different ids: ${ids.join(', ')}`)
  for (const id of ids) assert.ok(broker.broker.sessions.get(id!) !== undefined, `the session is known as ${id!}`)

  // The CONNECT was handled as if the client had sent the assigned id: it can resume the session by it.
  const assigned = ids[2]!
  await rawSubscribe(three.client, [{ topic: 'assigned/t', qos: 1 }])
  three.client.end()
  await eventually(() => broker.broker.sessions.get(assigned)?.online === false, 'the session to go offline')
  const back = await openV5(broker, { clientId: assigned, clean: false, properties: { sessionExpiryInterval: 60 } })
  assert.is(back.connack.sessionPresent, true)
  assert.is(back.connack.properties?.assignedClientIdentifier, undefined, 'it named itself this time')
  const publisher = await connectClient(broker.url, { protocolVersion: 5 })
  await publisher.publishAsync('assigned/t', 'found you', { qos: 1 })
  await eventually(() => back.received.length === 1, 'delivery through the session made under the assigned id')
})

test('[MQTT-3.1.3-5] a client id of 23 characters from 0-9, a-z, A-Z is accepted', async ({ broker }) => {
  const { connack } = await acceptedV5(broker, { clientId: 'abcdefghijKLMNOPQRST789' })
  assert.is(connack.reasonCode, 0)
})

test('Receive Maximum 0 in CONNECT is a Protocol Error: [MQTT-3.2.2-6][MQTT-3.2.2-7] CONNACK 0x82 with session present 0, then the connection is closed', async ({ broker }) => {
  const stored = await acceptedV5(broker, { clientId: 'rm0', clean: false, properties: { sessionExpiryInterval: 60 } })
  stored.client.end()
  await eventually(() => broker.broker.sessions.get('rm0')?.online === false, 'the session to go offline')
  const { client, connack } = await rawV5(broker, { clientId: 'rm0', clean: false, properties: { receiveMaximum: 0 } })
  assert.is(connack.reasonCode, 0x82)
  assert.is(connack.sessionPresent, false, 'a refusing CONNACK never says session present')
  assert.ok(await client.closesWithin(3000))
  assert.is(client.received.find(packet => packet.cmd === 'disconnect'), undefined, 'no DISCONNECT after a refusing CONNACK')
})

test('Maximum Packet Size 0 in CONNECT is a Protocol Error: CONNACK 0x82, then the connection is closed', async ({ broker }) => {
  const { client, connack } = await rawV5(broker, { clientId: 'mps0', properties: { maximumPacketSize: 0 } })
  assert.is(connack.reasonCode, 0x82)
  assert.ok(await client.closesWithin(3000))
})

test('[MQTT-3.1.4-6] after refusing a CONNECT the broker processes nothing else the client sent', async ({ broker }) => {
  const watcher = await openV5(broker, { clientId: 'watcher' })
  await watcher.client.subscribeAsync('refused/#', { qos: 1 })
  const client = await RawClient.connect(broker.port, 5)
  client.sendBytes(Buffer.concat([
    generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clean: true, clientId: 'refused', keepalive: 60, properties: { receiveMaximum: 0 } }),
    generate({ cmd: 'publish', topic: 'refused/t', payload: Buffer.from('must not be routed'), qos: 1, messageId: 1, retain: true, dup: false })
  ]))
  const connack = await client.next('connack')
  assert.is(connack.reasonCode, 0x82)
  assert.ok(await client.closesWithin(3000))
  await quietFor(300)
  assert.equal(watcher.received, [], 'the PUBLISH behind the refused CONNECT was not routed')
  assert.is(broker.broker.router.retainedCount, 0, 'nor retained')
  assert.is(client.received.find(packet => packet.cmd === 'puback'), undefined)
})

test('[MQTT-3.1.4-2][MQTT-3.2.2-6][MQTT-3.2.2-7] a CONNECT the authenticator refuses gets CONNACK with its reason code (0x86), session present 0, and is closed', async () => {
  const refuseAll: Authenticator = { authenticate: async () => ({ allowed: false, reasonCode: 0x86 }) }
  const { config } = loadConfig({})
  const broker = await Broker.start({ config: { ...config, host: '127.0.0.1', port: 0 }, log: pino({ level: 'silent' }), authenticator: refuseAll })
  try {
    const client = await RawClient.connect(broker.port, 5)
    const connack = await client.handshake({ protocolId: 'MQTT', protocolVersion: 5, clean: false, clientId: 'nobody', username: 'nobody', password: Buffer.from('wrong') })
    assert.is(connack.reasonCode, 0x86)
    assert.is(connack.sessionPresent, false)
    assert.ok(await client.closesWithin(3000))
    assert.is(broker.sessions.get('nobody'), undefined, 'no session was created')
  } finally {
    await broker.close()
  }
})

test('[MQTT-3.1.2-1] a level 5 CONNECT with protocol name "MQIsdp" gets CONNACK 0x84 and is closed', async ({ broker }) => {
  const client = await RawClient.connect(broker.port, 5)
  const connack = await client.handshake({ protocolId: 'MQIsdp', protocolVersion: 5, clientId: 'wrong-name' })
  assert.is(connack.reasonCode, 0x84)
  assert.ok(await client.closesWithin(3000))
  assert.is(broker.broker.sessions.get('wrong-name'), undefined)
})

test('[MQTT-3.1.2-2] a CONNECT with protocol level 6 is refused (CONNACK with an unsupported-version code) and closed', async ({ broker }) => {
  // A client of an unknown level cannot be answered in its own terms; the broker answers as 3.1.1 does.
  const client = await RawClient.connect(broker.port, 4)
  client.sendBytes(connectBytes({ clientId: 'level6', level: 6 }))
  assert.ok(await client.closesWithin(3000))
  const connack = client.received.find(packet => packet.cmd === 'connack')
  assert.ok(connack === undefined || connack.returnCode === 1, 'no CONNACK, or one refusing the protocol version')
  assert.is(broker.broker.sessions.get('level6'), undefined)
})

test('[MQTT-3.1.2-3][MQTT-3.1.4-1][MQTT-3.14.0-1] a v5 CONNECT with the reserved flag set is closed without CONNACK 0x00 and without DISCONNECT', async ({ broker }) => {
  const client = await RawClient.connect(broker.port, 5)
  client.sendBytes(connectBytes({ clientId: 'reserved', flags: 0x03 }))
  assert.ok(await client.closesWithin(3000))
  assert.ok(client.received.every(packet => packet.cmd === 'connack' && packet.reasonCode !== 0), `only a refusing CONNACK, if anything: ${client.received.map(packet => packet.cmd).join(', ')}`)
  assert.is(broker.broker.sessions.get('reserved'), undefined)
})

test('Request Response Information 1 gets Response Information in CONNACK; [MQTT-3.1.2-28] 0 or absent gets none', async ({ broker }) => {
  const asked = await acceptedV5(broker, { clientId: 'wants-info', properties: { requestResponseInformation: true } })
  const information = asked.connack.properties?.responseInformation
  assert.type(information, 'string')
  assert.ok(information!.length > 0)
  const declined = await acceptedV5(broker, { clientId: 'declines-info', properties: { requestResponseInformation: false } })
  assert.is(declined.connack.properties?.responseInformation, undefined)
  const silent = await acceptedV5(broker, { clientId: 'silent-info' })
  assert.is(silent.connack.properties?.responseInformation, undefined)

  // The information is a usable topic prefix: a responder can answer on it.
  const requester = await openV5(broker, { clientId: 'uses-info', properties: { requestResponseInformation: true } })
  const prefix = requester.connack.properties?.responseInformation
  assert.type(prefix, 'string')
  await requester.client.subscribeAsync(`${prefix!}/#`, { qos: 1 })
  const responder = await connectClient(broker.url, { protocolVersion: 5 })
  await responder.publishAsync(`${prefix!}/reply`, 'answer', { qos: 1 })
  await eventually(() => requester.received.length === 1, 'the reply on the response information topic')
})

test('[MQTT-3.1.2-29] Request Problem Information 0: PUBACK, SUBACK and UNSUBACK carry no Reason String or User Property', async ({ broker }) => {
  const { client } = await acceptedV5(broker, { clientId: 'no-problems', properties: { requestProblemInformation: false } })
  client.send({ cmd: 'publish', topic: 'nobody/listens', payload: Buffer.from('x'), qos: 1, messageId: 5, retain: false, dup: false })
  const puback = await client.next('puback')
  assert.is(puback.reasonCode, 0x10)
  assert.is(puback.properties, undefined)
  client.send({ cmd: 'subscribe', messageId: 6, subscriptions: [{ topic: 'bad/#/filter', qos: 0 }] })
  const suback = await client.next('suback')
  assert.equal(suback.granted, [0x8f])
  assert.is(suback.properties, undefined)
  client.send({ cmd: 'unsubscribe', messageId: 7, unsubscriptions: ['never/subscribed'] })
  const unsuback = await client.next('unsuback')
  assert.equal(unsuback.granted, [0x11])
  assert.is(unsuback.properties, undefined)
})

test('User Properties in CONNECT are accepted (CONNACK 0x00) and the client works normally', async ({ broker }) => {
  const opened = await openV5(broker, { clientId: 'props', properties: { userProperties: { region: 'eu', tier: ['gold', 'silver'] } } })
  assert.is(opened.connack.reasonCode, 0)
  await opened.client.subscribeAsync('props/t', { qos: 1 })
  await opened.client.publishAsync('props/t', 'echo', { qos: 1 })
  await eventually(() => opened.received.length === 1, 'its own message back')
})

test('Server Keep Alive: a keep-alive above max-keepalive, or 0, is lowered and CONNACK says so; [MQTT-3.2.2-22] one within it is kept and not repeated', async () => {
  const broker = await brokerWith({ maxKeepalive: 30 })
  const high = await acceptedV5(broker, { clientId: 'ka-high', keepalive: 600 })
  assert.is(high.connack.properties?.serverKeepAlive, 30)
  const none = await acceptedV5(broker, { clientId: 'ka-none', keepalive: 0 })
  assert.is(none.connack.properties?.serverKeepAlive, 30, 'a client asking for no keep-alive still gets one')
  const low = await acceptedV5(broker, { clientId: 'ka-low', keepalive: 20 })
  assert.is(low.connack.properties?.serverKeepAlive, undefined)
})

test('[MQTT-3.1.2-22][MQTT-3.2.2-22] without Server Keep Alive the client\'s own keep-alive applies: silent for 1.5 times it gets DISCONNECT 0x8D; one that pings stays', async ({ broker }) => {
  const pinging = await acceptedV5(broker, { clientId: 'pinger', keepalive: 1 })
  const timer = setInterval(() => pinging.client.send({ cmd: 'pingreq' }), 400)
  try {
    const started = Date.now()
    const silent = await acceptedV5(broker, { clientId: 'silent', keepalive: 1 })
    assert.is(silent.connack.properties?.serverKeepAlive, undefined)
    await serverDisconnect(silent.client, 0x8d)
    const waited = Date.now() - started
    assert.ok(waited >= 1000, `dropped after ${waited}ms, not before the keep-alive ran out`)
    assert.is(pinging.client.connectionClosed, false, 'the client that pings is still connected')
  } finally {
    clearInterval(timer)
  }
})

test('[MQTT-3.1.2-22] max-keepalive 1 lowers a client\'s 60 s keep-alive to 1 s (Server Keep Alive 1): a silent client gets DISCONNECT 0x8D', async () => {
  const broker = await brokerWith({ maxKeepalive: 1 })
  const { client, connack } = await acceptedV5(broker, { clientId: 'lowered', keepalive: 60 })
  assert.is(connack.properties?.serverKeepAlive, 1)
  await serverDisconnect(client, 0x8d)
})

test('[MQTT-3.1.4-3][MQTT-3.14.2-1][MQTT-3.14.2-2][MQTT-3.14.4-1][MQTT-3.14.4-2] a second connection with the same client id takes over: the first gets DISCONNECT 0x8E and is closed, the second resumes', async ({ broker }) => {
  const first = await acceptedV5(broker, { clientId: 'twin', clean: false, properties: { sessionExpiryInterval: 60 } })
  await rawSubscribe(first.client, [{ topic: 'twin/t', qos: 1 }])
  const second = await openV5(broker, { clientId: 'twin', clean: false, properties: { sessionExpiryInterval: 60 } })
  await serverDisconnect(first.client, 0x8e)
  assert.is(second.connack.sessionPresent, true)
  const publisher = await connectClient(broker.url, { protocolVersion: 5 })
  await publisher.publishAsync('twin/t', 'to the new connection', { qos: 1 })
  await eventually(() => second.received.length === 1, 'delivery to the connection that took over')
})

test('[MQTT-3.2.2-9][MQTT-3.2.2-10][MQTT-3.2.2-12][MQTT-3.2.2-13] CONNACK announces no Maximum QoS (so QoS 2) and Retain Available, and the broker takes what that promises: SUBSCRIBE at QoS 0, 1 and 2 and a retained QoS 2 will', async ({ broker }) => {
  const { client, connack } = await acceptedV5(broker, {
    clientId: 'full-service',
    will: { topic: 'full/will', payload: Buffer.from('w'), qos: 2, retain: true, properties: { willDelayInterval: 0 } }
  })
  assert.is(connack.properties?.maximumQoS, undefined, 'no Maximum QoS: QoS 2 is supported')
  assert.ok(connack.properties?.retainAvailable !== false, 'retain is available')
  assert.equal(await rawSubscribe(client, [{ topic: 'full/0', qos: 0 }, { topic: 'full/1', qos: 1 }, { topic: 'full/2', qos: 2 }]), [0, 1, 2])
  client.send({ cmd: 'publish', topic: 'full/kept', payload: Buffer.from('r'), qos: 2, messageId: 2, retain: true, dup: false })
  assert.ok(((await client.next('pubrec')).reasonCode ?? 0) < 0x80, 'a retained QoS 2 PUBLISH is accepted')
})

test('[MQTT-3.1.0-2] a second CONNECT on the connection is a Protocol Error: DISCONNECT 0x82 and close', async ({ broker }) => {
  const { client } = await acceptedV5(broker, { clientId: 'double' })
  client.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clean: true, clientId: 'double', keepalive: 60 })
  await serverDisconnect(client, 0x82)
})

test('broker shutdown: every v5 client gets DISCONNECT 0x8B (Server shutting down)', async ({ broker }) => {
  const raw = await acceptedV5(broker, { clientId: 'raw-at-shutdown' })
  const mqttjs = await openV5(broker, { clientId: 'mqttjs-at-shutdown' })
  const v3 = await connectClient(broker.url, { clientId: 'v3-at-shutdown' })
  const v3Closed = new Promise<void>(resolve => v3.once('close', () => resolve()))
  await broker.broker.close()
  await serverDisconnect(raw.client, 0x8b)
  await eventually(() => mqttjs.disconnects.length === 1, 'MQTT.js to see the DISCONNECT')
  assert.is(mqttjs.disconnects[0]!.reasonCode, 0x8b)
  await v3Closed
})

test.run()
