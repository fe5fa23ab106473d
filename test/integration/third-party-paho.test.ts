import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { closeListenerBrokers, startListenerBroker } from '../helpers/listener-broker.js'
import { closeAllClients, collect, connectClient, eventually } from '../helpers/mqtt-clients.js'
import { Paho } from '../helpers/paho.js'
import { startBroker, type TestBroker } from '../helpers/test-broker.js'
import { killAll } from '../helpers/processes.js'
import { makeTestCertificates, type TestCertificates } from '../helpers/test-certificates.js'

/**
 * Interoperability with Eclipse Paho's Python client (paho-mqtt 1.6.1 from Debian) at MQTT 3.1
 * and 3.1.1, one Paho client per process (test/helpers/paho.ts); over plain TCP, or over TLS
 * (Python's ssl module through Paho's tls_set) with certificates of a throwaway CA.
 * Paho at MQTT 5 is in mqtt5-interop.test.ts.
 */

const test = suite<{ broker: TestBroker, pki: TestCertificates }>('third-party: paho-mqtt (Python)')

test.before(context => { context.pki = makeTestCertificates() })
test.after(context => { context.pki.remove() })
test.before.each(async context => { context.broker = await startBroker() })
test.after.each(async context => {
  await killAll()
  await closeAllClients()
  await context.broker.close()
  await closeListenerBrokers()
})

const TIMEOUT_MS = 10_000

for (const protocol of ['3.1', '3.1.1'] as const) {
  for (const qos of [0, 1, 2]) {
    test(`MQTT ${protocol} QoS ${qos}: Paho publisher to Paho subscriber round trip`, async ({ broker }) => {
      const topic = `paho/roundtrip/${protocol}/q${qos}`
      const subscriber = await Paho.connect(broker, { protocol })
      assert.equal(await subscriber.subscribe(topic, 2), [2])
      const publisher = await Paho.connect(broker, { protocol })
      await publisher.publish(topic, `payload at ${qos}`, qos)
      const message = await subscriber.message(topic)
      assert.equal(message, { event: 'message', topic, payload: `payload at ${qos}`, size: 12, qos, retain: false, dup: false })
      await publisher.disconnect()
      await subscriber.disconnect()
      await publisher.exit()
      await subscriber.exit()
    })
  }
}

test('[MQTT-3.8.4-6] Paho receives the lower of the published QoS and its granted QoS', async ({ broker }) => {
  const atMostOnce = await Paho.connect(broker)
  const atLeastOnce = await Paho.connect(broker, { protocol: '3.1' })
  assert.equal(await atMostOnce.subscribe('paho/downgrade', 0), [0])
  assert.equal(await atLeastOnce.subscribe('paho/downgrade', 1), [1])
  const publisher = await Paho.connect(broker)
  await publisher.publish('paho/downgrade', 'exactly once', 2)
  assert.is((await atMostOnce.message('paho/downgrade')).qos, 0)
  assert.is((await atLeastOnce.message('paho/downgrade')).qos, 1)
})

test('[MQTT-3.3.1-6][MQTT-3.3.1-8][MQTT-3.3.1-10] a retained message reaches later Paho subscribers flagged retained until an empty one clears it', async ({ broker }) => {
  const publisher = await Paho.connect(broker)
  await publisher.publish('paho/retained/lamp', 'on', 1, { retain: true })

  const later = await Paho.connect(broker, { protocol: '3.1' })
  await later.subscribe('paho/retained/+', 1)
  assert.equal(await later.message('paho/retained/lamp'), { event: 'message', topic: 'paho/retained/lamp', payload: 'on', size: 2, qos: 1, retain: true, dup: false })

  await publisher.publish('paho/retained/lamp', '', 1, { retain: true })
  // Forwarded to the existing subscription as an ordinary, non-retained message [MQTT-3.3.1-9].
  await later.process.waitFor(() => later.messages.find(message => message.size === 0), 'the empty message', TIMEOUT_MS)
  assert.equal(later.messages.map(message => [message.payload, message.retain]), [['on', true], ['', false]])

  // Retained messages come with the SUBACK, before a later message: once that is here, none came.
  const afterClear = await Paho.connect(broker)
  await afterClear.subscribe('paho/retained/+', 1)
  await publisher.publish('paho/retained/end', 'end', 1)
  await afterClear.message('paho/retained/end')
  assert.equal(afterClear.messages.map(message => message.topic), ['paho/retained/end'])
})

for (const protocol of ['3.1', '3.1.1'] as const) {
  test(`MQTT ${protocol} [MQTT-3.1.2-4][MQTT-3.1.2-5][MQTT-3.2.2-2] a persistent Paho session gets the QoS 1 messages queued while it was offline, without subscribing again`, async ({ broker }) => {
    const clientId = `pahoPersist${protocol.replaceAll('.', '')}`
    const client = await Paho.start(broker)
    await client.connect({ clientId, clean: false, protocol })
    await client.subscribe('paho/persist/#', 1)
    await client.disconnect()

    const publisher = await Paho.connect(broker, { protocol })
    for (const n of [1, 2, 3]) await publisher.publish(`paho/persist/${n}`, `queued ${n}`, 1)

    const back = await client.connect({ clientId, clean: false, protocol })
    // 3.1 has no Session Present flag; its CONNACK byte is reserved and zero.
    if (protocol === '3.1.1') assert.ok(back.sessionPresent, 'Session Present')
    await client.message('paho/persist/3')
    assert.equal(client.messages.map(message => `${message.topic} ${message.payload} qos=${message.qos}`), [
      'paho/persist/1 queued 1 qos=1',
      'paho/persist/2 queued 2 qos=1',
      'paho/persist/3 queued 3 qos=1'
    ])
  })
}

test('[MQTT-3.1.2-6][MQTT-3.2.2-1][MQTT-3.2.2-3] a clean Paho session discards the stored one', async ({ broker }) => {
  const client = await Paho.start(broker)
  const first = await client.connect({ clientId: 'pahoClean', clean: false })
  assert.is(first.sessionPresent, false, 'no session stored yet')
  await client.subscribe('paho/clean/#', 1)
  await client.disconnect()
  assert.is((await client.connect({ clientId: 'pahoClean', clean: true })).sessionPresent, false, 'a clean session never has one')
  await client.disconnect()
  assert.is((await client.connect({ clientId: 'pahoClean', clean: false })).sessionPresent, false, 'the clean session discarded it')
})

test('[MQTT-3.1.2-8] the will of a Paho client whose socket is closed without DISCONNECT is published', async ({ broker }) => {
  const watcher = await Paho.connect(broker)
  await watcher.subscribe('paho/wills/#', 2)
  const victim = await Paho.connect(broker, { will: { topic: 'paho/wills/dropped', payload: 'lost', qos: 1, retain: false } })
  await victim.drop()
  assert.equal(await watcher.message('paho/wills/dropped'), { event: 'message', topic: 'paho/wills/dropped', payload: 'lost', size: 4, qos: 1, retain: false, dup: false })
})

test('[MQTT-3.1.2-8][MQTT-3.1.2-17] the retained will of a killed Paho process is published and retained', async ({ broker }) => {
  const watcher = await Paho.connect(broker)
  await watcher.subscribe('paho/wills/#', 1)
  const victim = await Paho.connect(broker, { protocol: '3.1', will: { topic: 'paho/wills/killed', payload: 'killed', qos: 1, retain: true } })
  victim.process.kill('SIGKILL')
  assert.is((await watcher.message('paho/wills/killed')).payload, 'killed')
  const later = await Paho.connect(broker)
  await later.subscribe('paho/wills/killed', 1)
  const retained = await later.message('paho/wills/killed')
  assert.is(retained.retain, true)
  assert.is(retained.payload, 'killed')
})

test('[MQTT-3.14.4-3] a Paho client that disconnects cleanly does not publish its will', async ({ broker }) => {
  const watcher = await Paho.connect(broker)
  await watcher.subscribe('paho/wills/#', 1)
  const client = await Paho.connect(broker, { will: { topic: 'paho/wills/clean', payload: 'never', qos: 1, retain: false } })
  await client.disconnect()
  await client.exit()
  const publisher = await Paho.connect(broker)
  await publisher.publish('paho/wills/end', 'end', 1)
  await watcher.message('paho/wills/end')
  assert.equal(watcher.messages.map(message => message.topic), ['paho/wills/end'])
})

test('[MQTT-3.10.4-2][MQTT-3.10.4-4] after UNSUBSCRIBE a Paho client gets no more messages on that filter', async ({ broker }) => {
  const subscriber = await Paho.connect(broker)
  await subscriber.subscribe('paho/unsub/a', 1)
  await subscriber.subscribe('paho/unsub/end', 1)
  const publisher = await Paho.connect(broker)
  await publisher.publish('paho/unsub/a', 'before', 1)
  await subscriber.message('paho/unsub/a')
  await subscriber.unsubscribe('paho/unsub/a')
  await publisher.publish('paho/unsub/a', 'after', 1)
  // Same publisher, same order: when this one arrives, "after" would have.
  await publisher.publish('paho/unsub/end', 'end', 1)
  await subscriber.message('paho/unsub/end')
  assert.equal(subscriber.messages.map(message => `${message.topic} ${message.payload}`), ['paho/unsub/a before', 'paho/unsub/end end'])
})

test('over TLS: Paho trusting the test CA (tls_set ca_certs) publishes to and receives from another Paho over TLS, and an MQTT.js subscriber on plain TCP', async ({ pki }) => {
  const broker = await startListenerBroker({ tlsPort: 0, tlsCert: pki.serverCert, tlsKey: pki.serverKey })
  const secure = { port: broker.port('tls'), tls: { cafile: pki.ca } }
  const subscriber = await Paho.connect(secure)
  assert.equal(await subscriber.subscribe('paho/tls/#', 1), [1])
  const plain = await connectClient(`mqtt://127.0.0.1:${broker.port('tcp')}`)
  const overTcp = collect(plain)
  await plain.subscribeAsync('paho/tls/#', { qos: 1 })
  const publisher = await Paho.connect(secure, { protocol: '3.1' })
  await publisher.publish('paho/tls/greeting', 'over TLS', 1)
  assert.equal(await subscriber.message('paho/tls/greeting'), { event: 'message', topic: 'paho/tls/greeting', payload: 'over TLS', size: 8, qos: 1, retain: false, dup: false })
  await eventually(() => overTcp.length === 1, 'the message on the TCP subscriber')
  assert.is(overTcp[0]!.payload, 'over TLS')
  await plain.publishAsync('paho/tls/reply', 'from TCP', { qos: 1 })
  assert.is((await subscriber.message('paho/tls/reply')).payload, 'from TCP')
  await publisher.disconnect()
  await subscriber.disconnect()
  await publisher.exit()
  await subscriber.exit()
})

test('over TLS: Paho without the test CA fails the certificate check and never connects', async ({ pki }) => {
  const broker = await startListenerBroker({ tlsPort: 0, tlsCert: pki.serverCert, tlsKey: pki.serverKey })
  const paho = await Paho.start({ port: broker.port('tls'), tls: {} })
  const refusal = await paho.connectRefused()
  assert.is(refusal.event, 'error')
  assert.match(String(refusal.message), /CERTIFICATE_VERIFY_FAILED/)
  assert.is(broker.logs.filter(line => line.msg === 'client connected').length, 0)
})

test('requireCertificate: Paho with a client certificate from the CA (tls_set certfile/keyfile) gets in and round-trips; Paho without one is refused', async ({ pki }) => {
  const broker = await startListenerBroker({ listeners: [{ type: 'tls', port: 0, host: '127.0.0.1', cert: pki.serverCert, key: pki.serverKey, ca: pki.ca, requireCertificate: true }] })
  const withCertificate = { port: broker.port('tls'), tls: { cafile: pki.ca, cert: pki.clientCert, key: pki.clientKey } }
  const subscriber = await Paho.connect(withCertificate)
  await subscriber.subscribe('paho/cert/#', 2)
  const publisher = await Paho.connect(withCertificate)
  await publisher.publish('paho/cert/door', 'open', 2)
  assert.equal(await subscriber.message('paho/cert/door'), { event: 'message', topic: 'paho/cert/door', payload: 'open', size: 4, qos: 2, retain: false, dup: false })

  const without = await Paho.start({ port: broker.port('tls'), tls: { cafile: pki.ca } })
  const refusal = await without.connectRefused()
  assert.match(String(refusal.message), /CERTIFICATE_REQUIRED/, 'Paho is told the broker wants a certificate')
  await eventually(() => broker.logs.some(line => line.msg === 'client refused by the listener'), 'the refusal logged')
  assert.is(broker.logs.filter(line => line.msg === 'client connected').length, 2, 'only the two clients with a certificate connected')
})

test.run()
