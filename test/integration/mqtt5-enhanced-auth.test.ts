import type { Packet } from 'mqtt-packet'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { pino } from 'pino'
import { InMemoryScramCredentials } from '../../actors/connection/auth-methods/scram-credentials.js'
import { SCRAM_SHA_256, ScramSha256 } from '../../actors/connection/auth-methods/scram-sha-256.js'
import { Broker } from '../../runtime/broker.js'
import { loadConfig } from '../../runtime/config/load-config.js'
import { closeAllClients, collect, connectClient, eventually } from '../helpers/mqtt-clients.js'
import { RawClient } from '../helpers/raw-client.js'
import { ScramClient } from '../helpers/scram-client.js'

const test = suite<{ broker: Broker }>('MQTT 5 enhanced authentication (SCRAM-SHA-256)')

test.before.each(async context => {
  const { config } = loadConfig({})
  context.broker = await Broker.start({
    config: { ...config, host: '127.0.0.1', port: 0, connectTimeout: 2 },
    log: pino({ level: 'silent' }),
    authMethods: [new ScramSha256(new InMemoryScramCredentials(new Map([['alice', 'wonderland']])))]
  })
})
test.after.each(async context => {
  RawClient.closeAll()
  await closeAllClients()
  await context.broker.close()
})

type Auth = Extract<Packet, { cmd: 'auth' }>

/** CONNECT with SCRAM's client-first, and the broker's first answer. */
async function startScram (port: number, scram: ScramClient, clientId = 'scram-client'): Promise<{ client: RawClient, challenge: Auth }> {
  const client = await RawClient.connect(port, 5)
  client.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clean: true, clientId, keepalive: 60, properties: { authenticationMethod: SCRAM_SHA_256, authenticationData: scram.clientFirst() } })
  return { client, challenge: await client.next('auth') }
}

function answer (client: RawClient, data: Buffer, reasonCode = 0x18, method = SCRAM_SHA_256): void {
  client.send({ cmd: 'auth', reasonCode, properties: { authenticationMethod: method, authenticationData: data } })
}

test('[MQTT-4.12.0-2] [MQTT-4.12.0-5] a full SCRAM exchange: AUTH 0x18 challenge, then CONNACK 0 with the method and a server signature the client verifies', async ({ broker }) => {
  const scram = new ScramClient('alice', 'wonderland')
  const { client, challenge } = await startScram(broker.port, scram)
  assert.is(challenge.reasonCode, 0x18)
  assert.is(challenge.properties?.authenticationMethod, SCRAM_SHA_256)
  answer(client, scram.clientFinal(challenge.properties!.authenticationData!))
  const connack = await client.next('connack')
  assert.is(connack.reasonCode, 0)
  assert.is(connack.properties?.authenticationMethod, SCRAM_SHA_256)
  assert.ok(scram.verifiesServerFinal(connack.properties?.authenticationData), 'the broker proved it knows the credentials')
  // The authenticated client is a normal client from here on.
  client.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'after/auth', qos: 0 }] })
  await client.next('suback')
  const publisher = await connectClient(`mqtt://127.0.0.1:${broker.port}`, { protocolVersion: 5 })
  await publisher.publishAsync('after/auth', 'hello')
  assert.is((await client.next('publish')).payload.toString(), 'hello')
})

test('[MQTT-4.12.0-4] a wrong password gets CONNACK 0x86 and the connection is closed', async ({ broker }) => {
  const scram = new ScramClient('alice', 'not the password')
  const { client, challenge } = await startScram(broker.port, scram)
  answer(client, scram.clientFinal(challenge.properties!.authenticationData!))
  assert.is((await client.next('connack')).reasonCode, 0x86)
  assert.ok(await client.closesWithin(2000))
})

test('an unknown user is challenged like a known one and refused only at the end', async ({ broker }) => {
  const scram = new ScramClient('mallory', 'guess')
  const { client, challenge } = await startScram(broker.port, scram)
  assert.is(challenge.reasonCode, 0x18, 'no early answer that would reveal the user does not exist')
  answer(client, scram.clientFinal(challenge.properties!.authenticationData!))
  assert.is((await client.next('connack')).reasonCode, 0x86)
})

test('[MQTT-4.12.0-1] an authentication method the broker does not offer gets CONNACK 0x8C and a close', async ({ broker }) => {
  const client = await RawClient.connect(broker.port, 5)
  client.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clean: true, clientId: 'x', keepalive: 60, properties: { authenticationMethod: 'KERBEROS' } })
  assert.is((await client.next('connack')).reasonCode, 0x8c)
  assert.ok(await client.closesWithin(2000))
})

test('[MQTT-4.12.0-5] an answer with another method fails the exchange', async ({ broker }) => {
  const scram = new ScramClient('alice', 'wonderland')
  const { client, challenge } = await startScram(broker.port, scram)
  answer(client, scram.clientFinal(challenge.properties!.authenticationData!), 0x18, 'SCRAM-SHA-1')
  assert.is((await client.next('connack')).reasonCode, 0x82)
  assert.ok(await client.closesWithin(2000))
})

test('a client that never answers the challenge is refused after the connect timeout', async ({ broker }) => {
  const { client } = await startScram(broker.port, new ScramClient('alice', 'wonderland'))
  assert.is((await client.next('connack', 5000)).reasonCode, 0x87)
  assert.ok(await client.closesWithin(2000))
})

test('[MQTT-4.12.0-6] without an authentication method, CONNACK carries none and no AUTH is sent', async ({ broker }) => {
  const client = await RawClient.connect(broker.port, 5)
  const connack = await client.handshake({ protocolVersion: 5, clientId: 'plain' })
  assert.is(connack.reasonCode, 0)
  assert.is(connack.properties?.authenticationMethod, undefined)
  assert.not.ok(client.received.some(p => p.cmd === 'auth'))
})

test('[MQTT-4.12.1-1] re-authentication: AUTH 0x19 runs the exchange again and ends with AUTH 0x00 while traffic goes on', async ({ broker }) => {
  const first = new ScramClient('alice', 'wonderland')
  const { client, challenge } = await startScram(broker.port, first, 'reauth')
  answer(client, first.clientFinal(challenge.properties!.authenticationData!))
  assert.is((await client.next('connack')).reasonCode, 0)
  const again = new ScramClient('alice', 'wonderland')
  answer(client, again.clientFirst(), 0x19)
  const challenge2 = await client.next('auth')
  assert.is(challenge2.reasonCode, 0x18)
  client.send({ cmd: 'pingreq' })
  await client.next('pingresp')
  answer(client, again.clientFinal(challenge2.properties!.authenticationData!))
  const done = await client.next('auth')
  assert.is(done.reasonCode, 0)
  assert.ok(again.verifiesServerFinal(done.properties?.authenticationData))
  assert.not.ok(client.connectionClosed)
})

test('[MQTT-4.12.1-2] a failed re-authentication ends with DISCONNECT 0x87 and a close', async ({ broker }) => {
  const first = new ScramClient('alice', 'wonderland')
  const { client, challenge } = await startScram(broker.port, first, 'reauth-bad')
  answer(client, first.clientFinal(challenge.properties!.authenticationData!))
  await client.next('connack')
  const wrong = new ScramClient('alice', 'changed')
  answer(client, wrong.clientFirst(), 0x19)
  const challenge2 = await client.next('auth')
  answer(client, wrong.clientFinal(challenge2.properties!.authenticationData!))
  assert.is((await client.next('disconnect')).reasonCode, 0x87)
  assert.ok(await client.closesWithin(2000))
})

test('[MQTT-4.12.0-7] [MQTT-3.15.2-1] AUTH from a client that did not authenticate with a method is a protocol error', async ({ broker }) => {
  const client = await RawClient.connect(broker.port, 5)
  await client.handshake({ protocolVersion: 5, clientId: 'no-method' })
  answer(client, Buffer.from('x'), 0x19)
  assert.is((await client.next('disconnect')).reasonCode, 0x82)
  assert.ok(await client.closesWithin(2000))
  // Others are unaffected.
  const other = await connectClient(`mqtt://127.0.0.1:${broker.port}`, { protocolVersion: 5 })
  await other.subscribeAsync('still')
  const received = collect(other)
  await other.publishAsync('still', 'serving')
  await eventually(() => received.length === 1, 'the broker still routes')
})

test('[MQTT-3.15.1-1] AUTH with reserved header flags set is malformed and closes the connection', async ({ broker }) => {
  const client = await RawClient.connect(broker.port, 5)
  await client.handshake({ protocolVersion: 5, clientId: 'flags' })
  client.sendBytes([0xf1, 0x02, 0x19, 0x00])
  assert.ok(await client.closesWithin(2000))
})

test.run()
