import mqttPacket, { type Packet } from 'mqtt-packet'
import { pino } from 'pino'
import { varInt } from '../helpers/mqtt5-wire.js'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { Authenticator } from '../../actors/connection/authenticator.js'
import { ReasonCode } from '../../actors/connection/protocol/reason-codes.js'
import { Broker } from '../../runtime/broker.js'
import { loadConfig } from '../../runtime/config/load-config.js'
import { closeAllClients, collect, connectClient, eventually, quietFor } from '../helpers/mqtt-clients.js'
import { RawClient } from '../helpers/raw-client.js'
import { startBroker, type TestBroker } from '../helpers/test-broker.js'
import { V3_VERSIONS, type V3Version } from '../helpers/v3-versions.js'
import { assertStillServing } from '../helpers/still-serving.js'

/**
 * CONNECT and CONNACK over real TCP (MQTT 3.1.1 sections 3.1, 3.2, 2.2, 1.5 and 4.8): what
 * the broker accepts, what it refuses with a return code, what it closes without a word, and
 * that it goes on serving everyone else afterwards.
 */
const test = suite<{ broker: TestBroker }>('connect')

test.before.each(async context => { context.broker = await startBroker({ connectTimeout: 1 }) })
test.after.each(async context => {
  RawClient.closeAll()
  await closeAllClients()
  await context.broker.close()
})

const VERSIONS = V3_VERSIONS
type Version = V3Version

// --- hand-built bytes, for packets mqtt-packet refuses to generate ---

/** A length-prefixed string field (MQTT's UTF-8 string encoding), from text or raw bytes. */
function field (value: string | number[]): Buffer {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value)
  const length = Buffer.alloc(2)
  length.writeUInt16BE(bytes.length)
  return Buffer.concat([length, bytes])
}

/** A whole packet: first byte, remaining length, body. */
function frame (firstByte: number, ...body: Buffer[]): Buffer {
  const rest = Buffer.concat(body)
  return Buffer.concat([Buffer.from([firstByte, ...varInt(rest.length)]), rest])
}

interface ConnectFrame {
  readonly protocolName?: string
  readonly level?: number
  /** The connect flags byte: 0x02 is clean session alone. */
  readonly flags?: number
  readonly payload?: Buffer[]
}

/** A CONNECT packet byte by byte, so its flags and strings can be anything. */
function connectFrame ({ protocolName = 'MQTT', level = 4, flags = 0x02, payload = [field('raw-client')] }: ConnectFrame): Buffer {
  return frame(0x10, field(protocolName), Buffer.from([level, flags, 0x00, 0x3c]), ...payload)
}

function encode (packet: Packet, level: number = 4): Buffer {
  return mqttPacket.generate(packet, { protocolVersion: level === 3 ? 3 : 4 })
}

function connectPacket (version: Version, fields: Partial<Extract<Packet, { cmd: 'connect' }>> = {}): Packet {
  return { cmd: 'connect', protocolId: version.protocolId, protocolVersion: version.level, clean: true, clientId: 'raw-client', keepalive: 60, ...fields }
}

async function handshake (broker: TestBroker, version: Version, fields: Partial<Extract<Packet, { cmd: 'connect' }>> = {}): Promise<{ raw: RawClient, connack: Extract<Packet, { cmd: 'connack' }> }> {
  const raw = await RawClient.connect(broker.port, version.level)
  const connack = await raw.handshake({ protocolId: version.protocolId, protocolVersion: version.level, clientId: `raw-${version.level}`, ...fields })
  return { raw, connack }
}

// --- assertions a user would notice ---

async function assertClosedWithoutConnack (raw: RawClient, what: string): Promise<void> {
  assert.ok(await raw.closesWithin(3000), `${what}: the broker closes the connection`)
  assert.not.ok(raw.received.some(packet => packet.cmd === 'connack'), `${what}: no CONNACK is sent`)
}

async function assertRefusedWith (raw: RawClient, returnCode: number, what: string): Promise<void> {
  const connack = await raw.next('connack')
  assert.is(connack.returnCode, returnCode, `${what}: CONNACK return code`)
  assert.is(connack.sessionPresent, false, `${what}: a refusal has session present 0 [MQTT-3.2.2-4]`)
  assert.ok(await raw.closesWithin(3000), `${what}: the broker closes the connection after the refusal [MQTT-3.2.2-5]`)
}

/** Subscribes an MQTT.js client to `filter`, to show later that nothing was routed there. */
async function watch (broker: TestBroker, filter: string): Promise<ReturnType<typeof collect>> {
  const watcher = await connectClient(broker.url)
  await watcher.subscribeAsync(filter, { qos: 1 })
  return collect(watcher)
}

// --- the first packet ---

test('[MQTT-3.1.0-1][MQTT-4.8.0-1] a PUBLISH before CONNECT closes the connection and is not routed', async ({ broker }) => {
  const seen = await watch(broker, 'first/#')
  const raw = await RawClient.connect(broker.port)
  raw.send({ cmd: 'publish', topic: 'first/packet', payload: Buffer.from('sneaky'), qos: 0, retain: false, dup: false })
  await assertClosedWithoutConnack(raw, 'PUBLISH as the first packet')
  await quietFor(200)
  assert.is(seen.length, 0, 'the PUBLISH sent before CONNECT reaches no subscriber')
  await assertStillServing(broker)
})

test('[MQTT-3.1.0-1] a PINGREQ before CONNECT closes the connection without PINGRESP', async ({ broker }) => {
  const raw = await RawClient.connect(broker.port)
  raw.send({ cmd: 'pingreq' })
  await assertClosedWithoutConnack(raw, 'PINGREQ as the first packet')
  assert.equal(raw.received, [], 'nothing at all is sent back')
  await assertStillServing(broker)
})

test('[MQTT-3.1.0-1] a socket that never sends CONNECT is closed after the connect timeout', async ({ broker }) => {
  const silent = await RawClient.connect(broker.port)
  const partial = await RawClient.connect(broker.port)
  partial.sendBytes(connectFrame({}).subarray(0, 5)) // a CONNECT that never completes
  assert.ok(await silent.closesWithin(4000), 'a silent socket is closed within 4 s (connectTimeout 1 s)')
  assert.ok(await partial.closesWithin(4000), 'a socket with half a CONNECT is closed within 4 s')
  assert.equal(silent.received, [], 'no packet is sent to a client that never connected')
  assert.ok(broker.logs.some(line => line.reason === 'connect-timeout'), 'the log says why the socket was closed')
  await assertStillServing(broker)
})

for (const version of VERSIONS) {
  test(`[MQTT-3.1.4-4][MQTT-3.2.0-1] ${version.label}: a valid CONNECT gets CONNACK 0 first, before the answers to packets sent right behind it`, async ({ broker }) => {
    const raw = await RawClient.connect(broker.port, version.level)
    raw.sendBytes(Buffer.concat([
      encode(connectPacket(version, { clientId: `pipelined-${version.level}` }), version.level),
      encode({ cmd: 'subscribe', messageId: 7, subscriptions: [{ topic: 'pipelined/+', qos: 1 }] }, version.level),
      encode({ cmd: 'pingreq' }, version.level)
    ]))
    await raw.next('pingresp')
    assert.equal(raw.received.map(packet => packet.cmd), ['connack', 'suback'], 'CONNACK comes first, then SUBACK (PINGRESP taken)')
    const connack = raw.received[0] as Extract<Packet, { cmd: 'connack' }>
    assert.is(connack.returnCode, 0)
    const suback = raw.received[1] as Extract<Packet, { cmd: 'suback' }>
    assert.equal(suback.granted, [1])
  })

  test(`[MQTT-3.1.0-2][MQTT-4.8.0-1] ${version.label}: a second CONNECT closes the connection`, async ({ broker }) => {
    const { raw, connack } = await handshake(broker, version)
    assert.is(connack.returnCode, 0)
    raw.send({ cmd: 'pingreq' })
    await raw.next('pingresp')
    raw.send(connectPacket(version, { clientId: `raw-${version.level}` }))
    assert.ok(await raw.closesWithin(3000), 'the second CONNECT closes the connection')
    assert.not.ok(raw.received.some(packet => packet.cmd === 'connack'), 'the second CONNECT gets no CONNACK')
    await assertStillServing(broker)
  })

  test(`[MQTT-3.1.0-2] ${version.label}: a second CONNECT sent right behind the first, before CONNACK, closes the connection`, async ({ broker }) => {
    const raw = await RawClient.connect(broker.port, version.level)
    const connect = encode(connectPacket(version, { clientId: `double-${version.level}` }), version.level)
    raw.sendBytes(Buffer.concat([connect, connect]))
    assert.ok(await raw.closesWithin(3000), 'the connection is closed')
    await assertStillServing(broker)
  })

  test(`[MQTT-3.1.4-4] ${version.label}: a CONNECT that arrives one byte at a time is accepted`, async ({ broker }) => {
    const raw = await RawClient.connect(broker.port, version.level)
    const connect = encode(connectPacket(version, { clientId: `trickle-${version.level}`, will: { topic: 'trickle/will', payload: Buffer.from('w'), qos: 1, retain: false } }), version.level)
    for (const byte of connect) {
      raw.sendBytes([byte])
      await new Promise(resolve => setTimeout(resolve, 2))
    }
    const connack = await raw.next('connack')
    assert.is(connack.returnCode, 0)
  })

  test(`[MQTT-3.1.2-3][MQTT-3.1.4-1] ${version.label}: the reserved CONNECT flag bit set closes the connection without CONNACK`, async ({ broker }) => {
    const raw = await RawClient.connect(broker.port, version.level)
    raw.sendBytes(connectFrame({ protocolName: version.protocolId, level: version.level, flags: 0x03 }))
    await assertClosedWithoutConnack(raw, 'reserved bit 0 set')
    await assertStillServing(broker)
  })

  test(`[MQTT-3.1.2-14][MQTT-3.1.4-1] ${version.label}: will QoS 3 closes the connection without CONNACK and publishes no will`, async ({ broker }) => {
    const seen = await watch(broker, 'will-qos3/#')
    const raw = await RawClient.connect(broker.port, version.level)
    // clean session, will flag, will QoS bits 11
    raw.sendBytes(connectFrame({ protocolName: version.protocolId, level: version.level, flags: 0x02 | 0x04 | 0x18, payload: [field('wq3'), field('will-qos3/wq3'), field('gone')] }))
    await assertClosedWithoutConnack(raw, 'will QoS 3')
    await quietFor(200)
    assert.is(seen.length, 0, 'the will of a refused CONNECT is not published')
    await assertStillServing(broker)
  })

  test(`[MQTT-3.1.2-11][MQTT-3.1.2-13] ${version.label}: will flag 0 with will QoS 1 closes the connection without CONNACK`, async ({ broker }) => {
    const raw = await RawClient.connect(broker.port, version.level)
    raw.sendBytes(connectFrame({ protocolName: version.protocolId, level: version.level, flags: 0x02 | 0x08 }))
    await assertClosedWithoutConnack(raw, 'will QoS without will flag')
    await assertStillServing(broker)
  })

  test(`[MQTT-3.1.2-11][MQTT-3.1.2-15] ${version.label}: will flag 0 with will retain set closes the connection without CONNACK`, async ({ broker }) => {
    const raw = await RawClient.connect(broker.port, version.level)
    raw.sendBytes(connectFrame({ protocolName: version.protocolId, level: version.level, flags: 0x02 | 0x20 }))
    await assertClosedWithoutConnack(raw, 'will retain without will flag')
    await assertStillServing(broker)
  })

  test(`[MQTT-3.1.3-5] ${version.label}: client ids of 1 to 23 characters from 0-9, a-z, A-Z are accepted`, async ({ broker }) => {
    for (const clientId of ['a', '7', 'Z', 'abcdefghijKLMNOPQRST012', '0123456789abcdefABCDEFz']) {
      const { raw, connack } = await handshake(broker, version, { clientId })
      assert.is(connack.returnCode, 0, `client id "${clientId}" is accepted`)
      raw.end()
    }
  })

  test(`[MQTT-1.5.3-1][MQTT-3.1.3-4] ${version.label}: a client id that is not well-formed UTF-8 closes the connection without CONNACK`, async ({ broker }) => {
    const illFormed = [[0x61, 0xc3, 0x28], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80]]
    for (const bytes of illFormed) {
      const raw = await RawClient.connect(broker.port, version.level)
      raw.sendBytes(connectFrame({ protocolName: version.protocolId, level: version.level, payload: [field(bytes)] }))
      await assertClosedWithoutConnack(raw, `client id bytes ${Buffer.from(bytes).toString('hex')}`)
    }
    await assertStillServing(broker)
  })

  test(`[MQTT-1.5.3-2] ${version.label}: U+0000 in the client id closes the connection without CONNACK`, async ({ broker }) => {
    const raw = await RawClient.connect(broker.port, version.level)
    raw.sendBytes(connectFrame({ protocolName: version.protocolId, level: version.level, payload: [field('nul\u0000id')] }))
    await assertClosedWithoutConnack(raw, 'U+0000 in the client id')
    await assertStillServing(broker)
  })
}

// --- protocol name and level ---

test('[MQTT-3.1.2-2] an unsupported protocol level gets CONNACK return code 1, then the connection closes', async ({ broker }) => {
  for (const [name, level] of [['MQTT', 6], ['MQTT', 2], ['MQIsdp', 0x7f]] as const) {
    const raw = await RawClient.connect(broker.port)
    raw.sendBytes(connectFrame({ protocolName: name, level }))
    await assertRefusedWith(raw, 1, `${name} level ${level}`)
  }
  await assertStillServing(broker)
})

test('[MQTT-3.1.2-1][MQTT-3.1.2-2] a protocol name that does not go with the level gets CONNACK 1 and is closed', async ({ broker }) => {
  for (const [name, level] of [['MQTT', 3], ['MQIsdp', 4]] as const) {
    const raw = await RawClient.connect(broker.port, level)
    raw.sendBytes(connectFrame({ protocolName: name, level }))
    await assertRefusedWith(raw, 1, `protocol name ${name} with level ${level}`)
  }
  await assertStillServing(broker)
})

test('[MQTT-3.1.2-1][MQTT-3.1.4-1] an unknown protocol name is not processed as MQTT: closed without CONNACK', async ({ broker }) => {
  for (const name of ['MQTX', 'mqtt', 'HTTP']) {
    const raw = await RawClient.connect(broker.port)
    raw.sendBytes(connectFrame({ protocolName: name, level: 4 }))
    await assertClosedWithoutConnack(raw, `protocol name ${name}`)
  }
  await assertStillServing(broker)
})

test('[MQTT-3.1.4-1][MQTT-3.2.2-6] a truncated CONNECT closes the connection without CONNACK', async ({ broker }) => {
  const raw = await RawClient.connect(broker.port)
  // Remaining length 3: the protocol name's length says 4 bytes, only one follows.
  raw.sendBytes([0x10, 0x03, 0x00, 0x04, 0x4d])
  await assertClosedWithoutConnack(raw, 'a truncated CONNECT')
  await assertStillServing(broker)
})

test('[MQTT-3.1.2-22][MQTT-3.1.4-1] MQTT 3.1.1: the password flag without the user name flag closes the connection without CONNACK', async ({ broker }) => {
  const raw = await RawClient.connect(broker.port)
  raw.sendBytes(connectFrame({ flags: 0x02 | 0x40, payload: [field('pw-only'), field('secret')] }))
  await assertClosedWithoutConnack(raw, 'password without user name')
  await assertStillServing(broker)
})

// --- client identifiers ---

test('[MQTT-3.1.3-6][MQTT-3.2.2-1] MQTT 3.1.1: an empty client id with clean session 1 is accepted with a unique assigned id', async ({ broker }) => {
  const first = await RawClient.connect(broker.port)
  const second = await RawClient.connect(broker.port)
  const connacks = [await first.handshake({ clientId: '', clean: true }), await second.handshake({ clientId: '', clean: true })]
  for (const connack of connacks) {
    assert.is(connack.returnCode, 0)
    assert.is(connack.sessionPresent, false)
  }
  const ids = [...broker.broker.connections].map(connection => connection.clientId)
  assert.is(ids.length, 2)
  assert.ok(ids.every(id => id.length > 0), 'each connection got a non-empty client id')
  assert.is.not(ids[0], ids[1], 'the assigned ids differ')
  // The connection is a normal one: it can subscribe and receive.
  first.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'anonymous/in', qos: 0 }] })
  await first.next('suback')
  second.send({ cmd: 'publish', topic: 'anonymous/in', payload: Buffer.from('hi'), qos: 0, retain: false, dup: false })
  const publish = await first.next('publish')
  assert.is(publish.payload.toString(), 'hi')
})

test('[MQTT-3.1.3-8] MQTT 3.1.1: an empty client id with clean session 0 gets CONNACK 2, then the connection closes', async ({ broker }) => {
  const raw = await RawClient.connect(broker.port)
  raw.sendBytes(connectFrame({ flags: 0x00, payload: [field('')] }))
  await assertRefusedWith(raw, 2, 'empty client id, clean session 0')
  await assertStillServing(broker)
})

test('[MQTT-3.1.3-9] MQTT 3.1: an empty client id gets CONNACK 2 (identifier rejected), then the connection closes', async ({ broker }) => {
  for (const flags of [0x02, 0x00]) {
    const raw = await RawClient.connect(broker.port, 3)
    raw.sendBytes(connectFrame({ protocolName: 'MQIsdp', level: 3, flags, payload: [field('')] }))
    await assertRefusedWith(raw, 2, `MQTT 3.1 empty client id, clean session ${flags === 0x02 ? 1 : 0}`)
  }
  await assertStillServing(broker)
})

test('[MQTT-3.1.4-5] data sent behind a refused CONNECT is not processed', async ({ broker }) => {
  const behind = encode({ cmd: 'publish', topic: 'refused/behind', payload: Buffer.from('must not be stored'), qos: 0, retain: true, dup: false })
  // refused with a return code (empty id, clean session 0) ...
  const refused = await RawClient.connect(broker.port)
  refused.sendBytes(Buffer.concat([connectFrame({ flags: 0x00, payload: [field('')] }), behind]))
  await assertRefusedWith(refused, 2, 'empty client id, clean session 0')
  // ... and refused by the parser (unsupported level)
  const unsupported = await RawClient.connect(broker.port)
  unsupported.sendBytes(Buffer.concat([connectFrame({ level: 9 }), behind]))
  await assertRefusedWith(unsupported, 1, 'level 9')
  // No retained message came of either PUBLISH.
  const late = await connectClient(broker.url)
  const received = collect(late)
  await late.subscribeAsync('refused/#', { qos: 1 })
  await quietFor(300)
  assert.is(received.length, 0, 'the PUBLISH behind a refused CONNECT was never routed or retained')
})

test('[MQTT-4.1.0-2][MQTT-3.1.4-5] a refused CONNECT for a connected client id leaves that client and its session alone', async ({ broker }) => {
  const version = VERSIONS[1]
  const { raw: owner } = await handshake(broker, version, { clientId: 'owner', clean: false })
  owner.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'owner/inbox', qos: 1 }] })
  await owner.next('suback')
  // Same client id, but will QoS 3: refused before it could take the session over.
  const intruder = await RawClient.connect(broker.port)
  intruder.sendBytes(connectFrame({ flags: 0x04 | 0x18, payload: [field('owner'), field('owner/will'), field('x')] }))
  await assertClosedWithoutConnack(intruder, 'will QoS 3 for a connected id')
  assert.not.ok(owner.connectionClosed, 'the connected client is still connected')
  const publisher = await connectClient(broker.url)
  await publisher.publishAsync('owner/inbox', 'still yours', { qos: 1 })
  const publish = await owner.next('publish')
  assert.is(publish.payload.toString(), 'still yours', 'its subscription still delivers')
})

test('[MQTT-3.2.2-4][MQTT-3.2.2-5] a refused CONNECT has session present 0 even when the client id has a stored session', async ({ broker }) => {
  const keeper = await connectClient(broker.url, { clientId: 'keeper', clean: false })
  await keeper.subscribeAsync('keeper/#', { qos: 1 })
  await keeper.endAsync()
  assert.ok(broker.broker.sessions.get('keeper') !== undefined, 'the session is stored')
  const raw = await RawClient.connect(broker.port)
  raw.sendBytes(connectFrame({ protocolName: 'MQTT', level: 3, flags: 0x00, payload: [field('keeper')] }))
  await assertRefusedWith(raw, 1, 'protocol name MQTT with level 3')
})

// --- authentication: the refusal comes later, after packets have piled up behind CONNECT ---

/** Lets everyone in after a moment, except the user names that say otherwise. */
const pickyAuthenticator: Authenticator = {
  authenticate: async request => {
    await new Promise(resolve => setTimeout(resolve, 50))
    if (request.username === 'crash') throw new Error('the authentication backend is down')
    if (request.username === 'intruder') return { allowed: false, reasonCode: ReasonCode.NotAuthorized }
    if (request.username !== undefined && request.password?.toString() !== 'right') return { allowed: false, reasonCode: ReasonCode.BadUserNameOrPassword }
    return { allowed: true }
  }
}

/** Swaps the suite's broker for one with `authenticator` (closed by after.each like any other). */
async function useAuthenticator (context: { broker: TestBroker }, authenticator: Authenticator): Promise<TestBroker> {
  await context.broker.close()
  const { config } = loadConfig({})
  const broker = await Broker.start({ config: { ...config, host: '127.0.0.1', port: 0 }, log: pino({ level: 'silent' }), authenticator })
  context.broker = { broker, port: broker.port, url: `mqtt://127.0.0.1:${broker.port}`, logs: [], close: async () => await broker.close() }
  return context.broker
}

for (const version of VERSIONS) {
  test(`[MQTT-3.1.4-5][MQTT-3.2.2-4][MQTT-3.2.2-5] ${version.label}: packets sent behind a CONNECT that authentication refuses are not processed`, async context => {
    const broker = await useAuthenticator(context, pickyAuthenticator)
    const cases = [['intruder', 'any', 5], ['alice', 'wrong', 4]] as const
    for (const [username, password, returnCode] of cases) {
      const raw = await RawClient.connect(broker.port, version.level)
      raw.sendBytes(Buffer.concat([
        encode(connectPacket(version, { clientId: `auth-${username}`, username, password: Buffer.from(password) }), version.level),
        encode({ cmd: 'publish', topic: `refused/${username}`, payload: Buffer.from('must not be stored'), qos: 1, retain: true, dup: false, messageId: 1 }, version.level),
        encode({ cmd: 'subscribe', messageId: 2, subscriptions: [{ topic: '#', qos: 0 }] }, version.level)
      ]))
      await assertRefusedWith(raw, returnCode, `user ${username}`)
      assert.equal(raw.received, [], 'no PUBACK or SUBACK for the packets behind the refused CONNECT')
    }
    const allowed = await RawClient.connect(broker.port, version.level)
    allowed.send(connectPacket(version, { clientId: 'auth-ok', username: 'alice', password: Buffer.from('right') }))
    assert.is((await allowed.next('connack')).returnCode, 0, 'a good password is let in')
    allowed.send({ cmd: 'subscribe', messageId: 3, subscriptions: [{ topic: 'refused/#', qos: 1 }] })
    await allowed.next('suback')
    await quietFor(200)
    assert.not.ok(allowed.received.some(packet => packet.cmd === 'publish'), 'no retained message was stored by a refused client')
  })
}

test('[MQTT-4.8.0-2] an error while authenticating a CONNECT closes that connection (CONNACK 3, server unavailable) and nothing else', async context => {
  const broker = await useAuthenticator(context, pickyAuthenticator)
  const bystander = await RawClient.connect(broker.port)
  bystander.send(connectPacket(VERSIONS[1], { clientId: 'bystander' }))
  await bystander.next('connack')
  const raw = await RawClient.connect(broker.port)
  raw.send(connectPacket(VERSIONS[1], { clientId: 'unlucky', username: 'crash', password: Buffer.from('x') }))
  await assertRefusedWith(raw, 3, 'the authenticator threw')
  bystander.send({ cmd: 'pingreq' })
  await bystander.next('pingresp')
  assert.not.ok(bystander.connectionClosed, 'other connections are untouched')
  await assertStillServing(broker)
})

// --- strings ---

test('[MQTT-1.5.3-1] ill-formed UTF-8 in a PUBLISH topic closes the connection and nothing is routed', async ({ broker }) => {
  const seen = await watch(broker, '#')
  const { raw } = await handshake(broker, VERSIONS[1])
  raw.sendBytes(frame(0x30, field([0x62, 0x61, 0x64, 0x2f, 0xc3, 0x28]), Buffer.from('payload')))
  assert.ok(await raw.closesWithin(3000), 'the connection is closed')
  await quietFor(200)
  assert.is(seen.length, 0, 'nothing was routed')
  await assertStillServing(broker)
})

test('[MQTT-1.5.3-2] U+0000 in a PUBLISH topic closes the connection and nothing is routed', async ({ broker }) => {
  const seen = await watch(broker, '#')
  const { raw } = await handshake(broker, VERSIONS[0])
  raw.send({ cmd: 'publish', topic: 'nul/\u0000/topic', payload: Buffer.from('payload'), qos: 0, retain: false, dup: false })
  assert.ok(await raw.closesWithin(3000), 'the connection is closed')
  await quietFor(200)
  assert.is(seen.length, 0, 'nothing was routed')
  await assertStillServing(broker)
})

test('[MQTT-1.5.3-1][MQTT-1.5.3-2] ill-formed UTF-8 or U+0000 in a SUBSCRIBE topic filter closes the connection', async ({ broker }) => {
  for (const bytes of [[0x61, 0x2f, 0xed, 0xa0, 0x80], [0x61, 0x2f, 0x00]]) {
    const { raw } = await handshake(broker, VERSIONS[1])
    raw.sendBytes(frame(0x82, Buffer.from([0x00, 0x01]), field(bytes), Buffer.from([0x00])))
    assert.ok(await raw.closesWithin(3000), `filter bytes ${Buffer.from(bytes).toString('hex')}: the connection is closed`)
    assert.not.ok(raw.received.some(packet => packet.cmd === 'suback'), 'no SUBACK')
  }
  await assertStillServing(broker)
})

test('[MQTT-1.5.3-1][MQTT-3.1.3-10][MQTT-3.1.3-11] ill-formed UTF-8 in the will topic or user name closes the connection without CONNACK', async ({ broker }) => {
  const willTopic = await RawClient.connect(broker.port)
  willTopic.sendBytes(connectFrame({ flags: 0x02 | 0x04, payload: [field('bad-will'), field([0x77, 0xff]), field('x')] }))
  await assertClosedWithoutConnack(willTopic, 'ill-formed will topic')
  const username = await RawClient.connect(broker.port)
  username.sendBytes(connectFrame({ flags: 0x02 | 0x80, payload: [field('bad-user'), field([0x75, 0xc3])] }))
  await assertClosedWithoutConnack(username, 'ill-formed user name')
  const nulUser = await RawClient.connect(broker.port)
  nulUser.sendBytes(connectFrame({ flags: 0x02 | 0x80, payload: [field('nul-user'), field('u\u0000')] }))
  await assertClosedWithoutConnack(nulUser, 'U+0000 in the user name')
  await assertStillServing(broker)
})

test('[MQTT-1.5.3-3] EF BB BF (U+FEFF) in a topic is kept, not stripped', async ({ broker }) => {
  const topic = 'bom/\uFEFFkept'
  const withBom = await connectClient(broker.url)
  await withBom.subscribeAsync(topic, { qos: 1 })
  const received = collect(withBom)
  const withoutBom = await connectClient(broker.url)
  await withoutBom.subscribeAsync('bom/kept', { qos: 1 })
  const stripped = collect(withoutBom)
  const publisher = await connectClient(broker.url)
  await publisher.publishAsync(topic, 'feff', { qos: 1 })
  await eventually(() => received.length === 1, 'the message on the topic with U+FEFF')
  assert.is(received[0]!.topic, topic)
  assert.ok(Buffer.from(received[0]!.topic).includes(Buffer.from([0xef, 0xbb, 0xbf])), 'the bytes EF BB BF are still in the topic')
  await quietFor(200)
  assert.is(stripped.length, 0, 'the topic without U+FEFF did not match')
})

// --- fixed header flags and packets a client must not send ---

test('[MQTT-2.2.2-1][MQTT-2.2.2-2] a CONNECT with reserved fixed-header flags closes the connection without CONNACK', async ({ broker }) => {
  const bytes = connectFrame({})
  bytes[0] = 0x12
  const raw = await RawClient.connect(broker.port)
  raw.sendBytes(bytes)
  await assertClosedWithoutConnack(raw, 'CONNECT with header flags 0010')
  await assertStillServing(broker)
})

const BAD_HEADERS: ReadonlyArray<readonly [string, number[]]> = [
  ['PINGREQ with flags 0001', [0xc1, 0x00]],
  ['SUBSCRIBE with flags 0000', [0x80, 0x06, 0x00, 0x01, 0x00, 0x01, 0x61, 0x00]],
  ['UNSUBSCRIBE with flags 0000', [0xa0, 0x05, 0x00, 0x01, 0x00, 0x01, 0x61]],
  ['PUBREL with flags 0000', [0x60, 0x02, 0x00, 0x01]],
  ['PUBACK with flags 0010', [0x42, 0x02, 0x00, 0x01]],
  ['PUBLISH with both QoS bits set', [0x36, 0x07, 0x00, 0x01, 0x61, 0x00, 0x01, 0x68, 0x69]]
]

for (const [what, bytes] of BAD_HEADERS) {
  test(`[MQTT-2.2.2-1][MQTT-2.2.2-2][MQTT-4.8.0-1] ${what} closes the connection`, async ({ broker }) => {
    const { raw } = await handshake(broker, VERSIONS[1])
    raw.sendBytes(bytes)
    assert.ok(await raw.closesWithin(3000), `${what}: the connection is closed`)
    assert.equal(raw.received, [], 'nothing is answered')
    await assertStillServing(broker)
  })
}

const SERVER_ONLY: readonly Packet[] = [
  { cmd: 'connack', sessionPresent: false, returnCode: 0 },
  { cmd: 'suback', messageId: 1, granted: [0] },
  { cmd: 'unsuback', messageId: 1, granted: [] },
  { cmd: 'pingresp' }
]

for (const packet of SERVER_ONLY) {
  test(`[MQTT-4.8.0-1] a client sending ${packet.cmd.toUpperCase()} (a server-only packet) is disconnected`, async ({ broker }) => {
    const { raw } = await handshake(broker, VERSIONS[1])
    raw.send(packet)
    assert.ok(await raw.closesWithin(3000), 'the connection is closed')
    await assertStillServing(broker)
  })
}

test.run()
