import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { connectClient, eventually, quietFor } from '../helpers/mqtt-clients.js'
import { openV5 } from '../helpers/mqtt5-clients.js'
import { Paho } from '../helpers/paho.js'
import { killAll, run, spawnTracked, type TrackedProcess } from '../helpers/processes.js'
import { RawClient } from '../helpers/raw-client.js'
import { startBroker, type TestBroker } from '../helpers/test-broker.js'
import { closeTestClients } from '../helpers/broker-per-test.js'

/**
 * MQTT 5 interoperability over real TCP: Eclipse Paho's Python client at MQTTv5
 * (test/helpers/paho.ts), mosquitto_pub / mosquitto_sub / mosquitto_rr with
 * -V mqttv5, and MQTT 5 clients next to MQTT 3.1 and 3.1.1 ones on the same topics.
 */
const test = suite<{ broker: TestBroker }>('mqtt5: interoperability')

test.before.each(async context => { context.broker = await startBroker() })
test.after.each(async context => {
  await killAll()
  await closeTestClients()
  await context.broker.close()
})

const TIMEOUT_MS = 10_000

// --- Paho MQTTv5 ---

test('paho MQTTv5: CONNACK 0x00 with the broker\'s limits and an Assigned Client Identifier for an empty client id', async ({ broker }) => {
  const paho = await Paho.start(broker)
  const connack = await paho.connect({ protocol: '5', clientId: '' })
  assert.is(connack.rc, 0)
  const properties = connack.properties ?? {}
  assert.is(properties.ReceiveMaximum, 100)
  assert.is(properties.TopicAliasMaximum, 100)
  assert.is(properties.WildcardSubscriptionAvailable, 1)
  assert.is(properties.SubscriptionIdentifierAvailable, 1)
  assert.type(properties.AssignedClientIdentifier, 'string')
})

test('[MQTT-3.3.2-17][MQTT-3.3.2-18][MQTT-3.3.4-3] paho MQTTv5 to paho MQTTv5: every PUBLISH property arrives, user properties in order, with the Subscription Identifier', async ({ broker }) => {
  const subscriber = await Paho.connect(broker, { protocol: '5', clientId: 'paho-sub' })
  assert.equal(await subscriber.subscribe('paho5/+/data', 2, { properties: { SubscriptionIdentifier: 17 } }), [2])
  const publisher = await Paho.connect(broker, { protocol: '5', clientId: 'paho-pub' })
  const userProperties = [['b', '1'], ['a', '2'], ['b', '3'], ['c', 'ü']]
  await publisher.publish('paho5/x/data', 'payload', 2, {
    properties: {
      PayloadFormatIndicator: 1,
      ContentType: 'text/plain',
      ResponseTopic: 'paho5/replies',
      CorrelationData: 'corr-1',
      MessageExpiryInterval: 120,
      UserProperty: userProperties
    }
  })
  const message = await subscriber.message('paho5/x/data')
  assert.is(message.payload, 'payload')
  assert.is(message.qos, 2)
  const properties = message.properties ?? {}
  assert.equal(properties.UserProperty, userProperties)
  assert.is(properties.PayloadFormatIndicator, 1)
  assert.is(properties.ContentType, 'text/plain')
  assert.is(properties.ResponseTopic, 'paho5/replies')
  assert.is(properties.CorrelationData, 'corr-1')
  assert.equal(properties.SubscriptionIdentifier, [17])
  const expiry = properties.MessageExpiryInterval as number
  assert.ok(expiry >= 119 && expiry <= 120, `Message Expiry Interval ${expiry}`)
})

test('[MQTT-3.8.3-3] paho MQTTv5 with No Local does not get its own messages; Retain Handling 2 gets no retained message', async ({ broker }) => {
  const paho = await Paho.connect(broker, { protocol: '5', clientId: 'paho-nl' })
  const publisher = await connectClient(broker.url, { protocolVersion: 5 })
  await publisher.publishAsync('paho5/retained', 'retained', { qos: 1, retain: true })
  await paho.subscribe('paho5/retained', 1, { retainHandling: 2 })
  await paho.subscribe('paho5/nl', 1, { noLocal: true })
  await paho.publish('paho5/nl', 'own', 1)
  await publisher.publishAsync('paho5/nl', 'other', { qos: 1 })
  await paho.message('paho5/nl')
  await quietFor(200)
  assert.equal(paho.messages.map(message => `${message.topic}=${message.payload}`), ['paho5/nl=other'])
})

test('[MQTT-3.1.2-23] paho MQTTv5 with Session Expiry Interval 60 and Clean Start 0 gets session present and the message queued while it was away', async ({ broker }) => {
  const persistent = { protocol: '5', clientId: 'paho-persist', clean: false, properties: { SessionExpiryInterval: 60 } } as const
  const first = await Paho.start(broker)
  assert.is((await first.connect(persistent)).sessionPresent, false)
  await first.subscribe('paho5/queued', 1)
  await first.disconnect()
  await eventually(() => broker.broker.sessions.get('paho-persist')?.online === false, 'the session to go offline')
  const publisher = await connectClient(broker.url, { protocolVersion: 5 })
  await publisher.publishAsync('paho5/queued', 'while away', { qos: 1, properties: { userProperties: { k: 'v' } } })
  const second = await Paho.start(broker)
  assert.is((await second.connect(persistent)).sessionPresent, true)
  const message = await second.message('paho5/queued')
  assert.is(message.payload, 'while away')
  assert.equal(message.properties?.UserProperty, [['k', 'v']])
})

test('[MQTT-3.1.3-10][MQTT-3.1.2-8] paho MQTTv5 will with Will Delay Interval 1 s: published with its properties about 1 s after the connection drops', async ({ broker }) => {
  const watcher = await Paho.connect(broker, { protocol: '5', clientId: 'paho-will-watcher' })
  await watcher.subscribe('paho5/wills/#', 1)
  const paho = await Paho.connect(broker, {
    protocol: '5',
    clientId: 'paho-will',
    clean: false,
    properties: { SessionExpiryInterval: 60 },
    will: { topic: 'paho5/wills/gone', payload: 'bye', qos: 1, properties: { WillDelayInterval: 1, ContentType: 'text/plain', UserProperty: [['z', '1'], ['y', '2'], ['z', '3']] } }
  })
  await paho.drop()
  const dropped = Date.now()
  const will = await watcher.message('paho5/wills/gone')
  const after = Date.now() - dropped
  assert.ok(after >= 900, `published ${after}ms after the drop`)
  assert.is(will.payload, 'bye')
  assert.is(will.properties?.ContentType, 'text/plain')
  assert.equal(will.properties?.UserProperty, [['z', '1'], ['y', '2'], ['z', '3']])
})

test('paho MQTTv5 DISCONNECT 0x04 publishes the will; DISCONNECT 0x00 does not', async ({ broker }) => {
  const watcher = await openV5(broker, { clientId: 'will-watcher' })
  await watcher.client.subscribeAsync('paho5/wills/#', { qos: 1 })
  const asking = await Paho.connect(broker, { protocol: '5', clientId: 'paho-asks', will: { topic: 'paho5/wills/asked', payload: 'asked for' } })
  const polite = await Paho.connect(broker, { protocol: '5', clientId: 'paho-polite', will: { topic: 'paho5/wills/polite', payload: 'must not appear' } })
  await polite.disconnect(0)
  await asking.disconnect(4)
  await eventually(() => watcher.received.length === 1, 'the will asked for')
  await quietFor(300)
  assert.equal(watcher.received.map(message => message.topic), ['paho5/wills/asked'])
})

test('[MQTT-3.1.4-3] paho MQTTv5 is told DISCONNECT 0x8E (Session taken over) when another connection takes its client id', async ({ broker }) => {
  const paho = await Paho.connect(broker, { protocol: '5', clientId: 'paho-twin' })
  await openV5(broker, { clientId: 'paho-twin' })
  const disconnected = await paho.disconnected()
  assert.is(disconnected.rc, 0x8e)
})

// --- mosquitto clients at -V mqttv5 ---

function endpoint (broker: TestBroker): string[] {
  return ['-h', '127.0.0.1', '-p', String(broker.port)]
}

function mosquittoSub (broker: TestBroker, args: string[]): TrackedProcess {
  return spawnTracked('stdbuf', ['-oL', 'mosquitto_sub', ...endpoint(broker), '-V', 'mqttv5', '-d', ...args])
}

async function subscribed (sub: TrackedProcess): Promise<void> {
  await sub.waitForLine(line => line.startsWith('Subscribed (mid:'), TIMEOUT_MS)
}

async function mosquittoPub (broker: TestBroker, args: string[]): Promise<string> {
  const result = await run('mosquitto_pub', [...endpoint(broker), '-V', 'mqttv5', '-d', ...args], { timeoutMs: TIMEOUT_MS })
  assert.is(result.code, 0, `mosquitto_pub ${args.join(' ')} failed:\n${result.stdout}${result.stderr}`)
  return result.stdout
}

test('[MQTT-3.3.2-4][MQTT-3.3.2-15][MQTT-3.3.2-16][MQTT-3.3.2-18][MQTT-3.3.2-20] mosquitto_pub -V mqttv5 properties reach mosquitto_sub -V mqttv5 unchanged, user properties in order', async ({ broker }) => {
  const sub = mosquittoSub(broker, ['-q', '1', '-t', 'mosq5/t', '-C', '1', '-F', 'MSG|%p|%F|%C|%R|%D|%E|%P'])
  await subscribed(sub)
  await mosquittoPub(broker, [
    '-q', '1', '-t', 'mosq5/t', '-m', 'hello',
    '-D', 'publish', 'user-property', 'zeta', '1',
    '-D', 'publish', 'content-type', 'text/plain',
    '-D', 'publish', 'user-property', 'alpha', '2',
    '-D', 'publish', 'response-topic', 'mosq5/replies',
    '-D', 'publish', 'correlation-data', 'corr-7',
    '-D', 'publish', 'payload-format-indicator', '1',
    '-D', 'publish', 'message-expiry-interval', '300',
    '-D', 'publish', 'user-property', 'zeta', '3'
  ])
  const line = await sub.waitForLine(text => text.startsWith('MSG|'), TIMEOUT_MS)
  const [, payload, format, contentType, responseTopic, correlation, expiry, ...userProperties] = line.split('|')
  assert.is(payload, 'hello')
  assert.is(format, '1')
  assert.is(contentType, 'text/plain')
  assert.is(responseTopic, 'mosq5/replies')
  assert.is(correlation, 'corr-7')
  assert.ok(Number(expiry) >= 299 && Number(expiry) <= 300, `expiry ${String(expiry)}`)
  assert.is(userProperties.join('|'), 'zeta:1 alpha:2 zeta:3')
})

test('[MQTT-3.1.2-23] mosquitto_sub -V mqttv5 -c -x 60 keeps its session: QoS 1 messages published while it is away arrive when it comes back', async ({ broker }) => {
  const args = ['-c', '-x', '60', '-i', 'mosq5-persist', '-q', '1', '-t', 'mosq5/persist', '-F', 'MSG|%p']
  const first = mosquittoSub(broker, [...args, '-E'])
  assert.is((await first.waitForExit(TIMEOUT_MS)).code, 0)
  for (const n of [1, 2]) await mosquittoPub(broker, ['-q', '1', '-t', 'mosq5/persist', '-m', `queued ${n}`])
  const back = mosquittoSub(broker, [...args, '-C', '2', '-W', '10'])
  assert.is((await back.waitForExit(TIMEOUT_MS)).code, 0, back.output())
  assert.equal(back.lines.filter(line => line.startsWith('MSG|')), ['MSG|queued 1', 'MSG|queued 2'])
})

test('[MQTT-3.14.4-3] mosquitto_sub -V mqttv5 leaving with its short DISCONNECT (Remaining Length 0) discards its will; killed, its will is published', async ({ broker }) => {
  const watcher = await openV5(broker, { clientId: 'mosq-will-watcher' })
  await watcher.client.subscribeAsync('mosq5/wills/#', { qos: 1 })
  const polite = mosquittoSub(broker, ['-q', '1', '-t', 'mosq5/polite/in', '-C', '1', '-i', 'mosq-polite', '--will-topic', 'mosq5/wills/polite', '--will-payload', 'must not appear'])
  const killed = mosquittoSub(broker, ['-q', '1', '-t', 'mosq5/killed/in', '-i', 'mosq-killed', '--will-topic', 'mosq5/wills/killed', '--will-payload', 'gone'])
  await subscribed(polite)
  await subscribed(killed)
  await mosquittoPub(broker, ['-q', '1', '-t', 'mosq5/polite/in', '-m', 'one is enough'])
  assert.is((await polite.waitForExit(TIMEOUT_MS)).code, 0)
  killed.kill('SIGKILL')
  await eventually(() => watcher.received.length === 1, 'the killed client\'s will')
  await quietFor(300)
  assert.equal(watcher.received.map(message => message.topic), ['mosq5/wills/killed'])
  const leaving = broker.logs.filter(line => line.msg === 'client disconnected' && line.clientId === 'mosq-polite')
  assert.equal(leaving.map(line => line.reason), ['client-disconnect'], 'a normal DISCONNECT, not a malformed packet')
})

test('request/response: mosquitto_rr asks with Response Topic and Correlation Data, an MQTT.js responder answers, mosquitto_rr prints the answer', async ({ broker }) => {
  const responder = await openV5(broker, { clientId: 'time-service' })
  const requests: Array<{ responseTopic: string | undefined, correlationData: Buffer | undefined }> = []
  responder.client.on('message', (_topic, payload, packet) => {
    const { responseTopic, correlationData } = packet.properties ?? {}
    requests.push({ responseTopic, correlationData })
    if (responseTopic !== undefined) responder.client.publish(responseTopic, `answer to ${payload.toString()}`, { qos: 1, properties: correlationData === undefined ? {} : { correlationData } })
  })
  await responder.client.subscribeAsync('mosq5/service', { qos: 1 })
  const result = await run('mosquitto_rr', [...endpoint(broker), '-t', 'mosq5/service', '-e', 'mosq5/rr-replies', '-m', 'question', '-W', '5'], { timeoutMs: TIMEOUT_MS })
  assert.is(result.code, 0, `${result.stdout}${result.stderr}`)
  assert.is(result.stdout.trim(), 'answer to question')
  assert.is(requests[0]?.responseTopic, 'mosq5/rr-replies')
})

// --- v5 next to 3.1 and 3.1.1 ---

test('a v5 publisher\'s message (with properties and a topic alias) reaches MQTT 3.1.1 and 3.1 subscribers without them, and a v5 subscriber with them', async ({ broker }) => {
  const v311 = await RawClient.connect(broker.port, 4)
  assert.is((await v311.handshake({ clientId: 'old-311' })).returnCode, 0)
  v311.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'mixed/#', qos: 1 }] })
  await v311.next('suback')
  const v31 = await RawClient.connect(broker.port, 3)
  assert.is((await v31.handshake({ protocolId: 'MQIsdp', protocolVersion: 3, clientId: 'old-31' })).returnCode, 0)
  v31.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'mixed/#', qos: 1 }] })
  await v31.next('suback')
  const v5 = await openV5(broker, { clientId: 'new-5' })
  await v5.client.subscribeAsync('mixed/#', { qos: 1 })

  const publisher = await connectClient(broker.url, { protocolVersion: 5, properties: { topicAliasMaximum: 10 } })
  const properties = { contentType: 'text/plain', userProperties: { a: '1' }, messageExpiryInterval: 60, correlationData: Buffer.from('c'), responseTopic: 'mixed/replies', payloadFormatIndicator: true }
  await publisher.publishAsync('mixed/t', 'from v5', { qos: 1, properties: { ...properties, topicAlias: 1 } })
  await publisher.publishAsync('', 'aliased', { qos: 1, properties: { topicAlias: 1 } })
  for (const client of [v311, v31]) {
    const first = await client.next('publish')
    const second = await client.next('publish')
    assert.equal([first, second].map(packet => `${packet.topic}=${packet.payload.toString()}`), ['mixed/t=from v5', 'mixed/t=aliased'])
    assert.is(first.properties, undefined)
  }
  await eventually(() => v5.received.length === 2, 'the v5 subscriber\'s two messages')
  assert.is(v5.received[0]!.packet.properties?.contentType, 'text/plain')
  assert.is(v5.received[1]!.topic, 'mixed/t')
})

test('a 3.1.1 publisher\'s message reaches a v5 subscriber with no properties added', async ({ broker }) => {
  const v5 = await openV5(broker, { clientId: 'new-5' })
  await v5.client.subscribeAsync('from-old/#', { qos: 1 })
  const old = await connectClient(broker.url, { protocolVersion: 4, clientId: 'old-pub' })
  await old.publishAsync('from-old/t', 'from 3.1.1', { qos: 1, retain: false })
  const older = await connectClient(broker.url, { protocolVersion: 3, protocolId: 'MQIsdp', clientId: 'older-pub' })
  await older.publishAsync('from-old/t', 'from 3.1', { qos: 1 })
  await eventually(() => v5.received.length === 2, 'both messages')
  assert.equal(v5.received.map(message => message.payload), ['from 3.1.1', 'from 3.1'])
  for (const message of v5.received) assert.equal({ ...message.packet.properties }, {}, 'no properties')
})

test.run()
