import type { IClientOptions, MqttClient } from 'mqtt'
import type { IConnackPacket, IConnectPacket } from 'mqtt-packet'
import * as assert from 'uvu/assert'
import { closeAllClients, collect, connectClient, eventually, quietFor, type Received } from '../helpers/mqtt-clients.js'
import { acceptedV5, rawSubscribe } from '../helpers/mqtt5-clients.js'
import type { CliBroker } from '../helpers/processes.js'
import { RawClient } from '../helpers/raw-client.js'
import type { TestBroker } from '../helpers/test-broker.js'
import {
  directoryBytes, levelSuite, limitFileSize, loadDataDir, logsOf, prlimitAvailable, rawKeys,
  sessionIn, startLevelBroker, startLevelCli, stopLevelBroker, urlOf
} from '../helpers/level-data.js'

/**
 * `--storage level` as an MQTT 5 user sees it, with real LevelDB in a fresh directory per
 * test and the real broker (the built CLI where a process must be killed or stopped; in this
 * process where only speed matters): subscription options and queued messages across a
 * restart, session expiry that takes the data off the disk (while the broker runs and while
 * it is down), a delayed will across a kill -9, ended sessions that leave nothing behind,
 * and the reason code a publisher gets when the store cannot write.
 */

const test = levelSuite('LevelDB persistence (MQTT 5)')

interface Opened {
  readonly client: MqttClient
  /** PUBLISH packets in wire order (MQTT.js emits QoS 2 messages only at PUBREL). */
  readonly received: Received[]
  readonly connack: IConnackPacket
}

/** MQTT.js at level 5, recording every PUBLISH from before CONNACK. */
async function openV5 (url: string, options: IClientOptions): Promise<Opened> {
  const received: Received[] = []
  let connack: IConnackPacket | undefined
  const client = await connectClient(url, { protocolVersion: 5, ...options }, client => {
    client.on('packetreceive', packet => {
      if (packet.cmd === 'publish') received.push({ topic: packet.topic, payload: packet.payload.toString(), qos: packet.qos, retain: packet.retain, dup: packet.dup, packet })
    })
    client.once('connect', packet => { connack = packet })
  })
  return { client, received, connack: connack! }
}

const persistent = (clientId: string, expiry: number): IClientOptions => ({ clientId, clean: false, properties: { sessionExpiryInterval: expiry } })

const describe = (message: Received): string =>
  `${message.topic}=${message.payload} q${message.qos}${message.retain ? ' retain' : ''}${message.packet.properties?.subscriptionIdentifier === undefined ? '' : ` id${String(message.packet.properties.subscriptionIdentifier)}`}`

test('[MQTT-3.2.2-3][MQTT-3.2.2-2][MQTT-3.1.2-5][MQTT-3.8.3-3][MQTT-3.3.1-12][MQTT-3.3.1-13][MQTT-3.3.4-3] after close() and a restart a v5 session is present with its queued QoS 1 and QoS 2 messages and its subscription options; retained messages are back', async ({ dir }) => {
  let broker = await startLevelBroker(dir)
  const keeper = await openV5(broker.url, persistent('keeper', 3600))
  await keeper.client.subscribeAsync('own/#', { qos: 1, nl: true, properties: { subscriptionIdentifier: 11 } })
  await keeper.client.subscribeAsync('rap/#', { qos: 2, rap: true, properties: { subscriptionIdentifier: 22 } })
  await keeper.client.subscribeAsync('plain/#', { qos: 2, rap: false })
  await keeper.client.endAsync()

  const publisher = await openV5(broker.url, { clientId: 'publisher' })
  await publisher.client.publishAsync('rap/1', 'r1', { qos: 2, retain: true })
  await publisher.client.publishAsync('plain/1', 'p1', { qos: 1, retain: true })
  await publisher.client.publishAsync('plain/2', 'p2', { qos: 2 })
  await publisher.client.endAsync()
  await stopLevelBroker(broker)

  broker = await startLevelBroker(dir)
  const back = await openV5(broker.url, persistent('keeper', 3600))
  assert.is(back.connack.sessionPresent, true, 'session present 1: the session was restored')
  await eventually(() => back.received.length >= 3, 'the three queued messages')
  await quietFor(200)
  assert.equal(back.received.map(describe), [
    'rap/1=r1 q2 retain id22', // Retain As Published, and the subscription identifier
    'plain/1=p1 q1', // no Retain As Published: RETAIN 0 on a forwarded message
    'plain/2=p2 q2'
  ], 'the queued messages, in order, with the options of the subscriptions that took them')

  // No Local survived: the keeper's own publication does not come back; another client's does, with its identifier.
  await back.client.publishAsync('own/mine', 'from keeper', { qos: 1 })
  const other = await openV5(broker.url, { clientId: 'other' })
  await other.client.publishAsync('own/theirs', 'from other', { qos: 1 })
  await eventually(() => back.received.length >= 4, 'the other client\'s message')
  await quietFor(200)
  assert.equal(back.received.slice(3).map(describe), ['own/theirs=from other q1 id11'])

  const stranger = await openV5(broker.url, persistent('stranger', 60))
  assert.is(stranger.connack.sessionPresent, false, 'session present 0 for a client id the broker never saw')

  const reader = await openV5(broker.url, { clientId: 'reader' })
  await reader.client.subscribeAsync({ 'rap/#': { qos: 2 }, 'plain/#': { qos: 2 } })
  await eventually(() => reader.received.length >= 2, 'the two retained messages')
  assert.equal(reader.received.map(m => `${m.topic}=${m.payload} retain:${String(m.retain)}`).sort(), ['plain/1=p1 retain:true', 'rap/1=r1 retain:true'])

  // Clean Start ends the stored session, on disk too.
  await back.client.endAsync()
  const restarted = await openV5(broker.url, { clientId: 'keeper', clean: true })
  assert.is(restarted.connack.sessionPresent, false, 'Clean Start 1: session present 0')
  await closeAllClients()
  await stopLevelBroker(broker)
  const contents = await loadDataDir(dir)
  assert.equal(contents.sessions.map(session => session.clientId), ['stranger'], 'only the session that is still alive is on disk')
})

/** Subscribes `clientId` (session expiry `expiry` s) to `filter` and leaves; then `count` QoS 1 messages are queued for it. */
async function queueFor (broker: TestBroker, clientIds: readonly string[], expiry: (clientId: string) => number, topic: string, count: number): Promise<void> {
  for (const clientId of clientIds) {
    const { client } = await acceptedV5(broker, { clientId, clean: false, properties: { sessionExpiryInterval: expiry(clientId) } })
    await rawSubscribe(client, [{ topic, qos: 1 }])
    client.send({ cmd: 'disconnect', reasonCode: 0 })
    await client.closed
    await eventually(() => broker.broker.sessions.get(clientId)?.online === false, `${clientId} to go offline`)
  }
  const publisher = await openV5(broker.url, { clientId: 'queuer' })
  for (let n = 0; n < count; n++) await publisher.client.publishAsync(topic, `queued ${n}`, { qos: 1 })
  await publisher.client.endAsync()
}

test('[MQTT-4.1.0-2] a session that expires while the broker runs is deleted from disk with its queued messages: after a restart its client gets session present 0 and nothing', async ({ dir }) => {
  let broker = await startLevelBroker(dir)
  await queueFor(broker, ['brief', 'lasting'], clientId => clientId === 'brief' ? 1 : 3600, 'expiry/t', 3)
  await eventually(() => broker.broker.sessions.get('brief') === undefined, 'brief\'s session to expire', 4000)
  await stopLevelBroker(broker)

  const contents = await loadDataDir(dir)
  assert.is(sessionIn(contents, 'brief'), undefined, 'the expired session is not in the store')
  assert.is(sessionIn(contents, 'lasting')?.messages.length, 3, 'while the one that has not expired keeps its 3 messages (so they were written)')
  const keys = await rawKeys(dir)
  assert.equal(keys.messages.filter(clientId => clientId === 'brief'), [], 'no message of the expired session is left on disk')

  broker = await startLevelBroker(dir)
  const brief = await openV5(broker.url, persistent('brief', 1))
  assert.is(brief.connack.sessionPresent, false, 'session present 0: the session expired')
  const lasting = await openV5(broker.url, persistent('lasting', 3600))
  assert.is(lasting.connack.sessionPresent, true)
  await eventually(() => lasting.received.length === 3, 'the messages of the session that did not expire')
  await quietFor(200)
  assert.equal(brief.received, [], 'nothing for the client whose session expired')
})

test('[MQTT-4.1.0-2] a session whose expiry passes while the broker is down is gone after the restart, and from disk', async ({ dir }) => {
  let broker = await startLevelBroker(dir)
  await queueFor(broker, ['brief', 'lasting'], clientId => clientId === 'brief' ? 2 : 3600, 'expiry/t', 2)
  await stopLevelBroker(broker)

  const before = await loadDataDir(dir)
  const stored = sessionIn(before, 'brief')
  assert.ok(stored !== undefined, 'the session was stored while it had not expired')
  assert.is(stored.messages.length, 2, 'with its queued messages')
  assert.ok(stored.expiresAt !== undefined && stored.expiresAt > Date.now(), 'and the time it expires')
  await quietFor(stored.expiresAt - Date.now() + 100)

  broker = await startLevelBroker(dir)
  const restored = broker.logs.find(line => line.msg === 'restored from store')
  assert.is(restored?.expiredSessions, 1, 'the broker logged one session that expired while it was down')
  const brief = await openV5(broker.url, persistent('brief', 2))
  assert.is(brief.connack.sessionPresent, false, 'session present 0')
  await quietFor(200)
  assert.equal(brief.received, [], 'none of its old messages')
  await brief.client.endAsync()
  await stopLevelBroker(broker)

  const after = await loadDataDir(dir)
  assert.is(sessionIn(after, 'brief')?.messages.length ?? 0, 0, 'the expired session\'s messages are gone from disk')
  assert.ok(sessionIn(after, 'lasting') !== undefined)
  const keys = await rawKeys(dir)
  assert.equal(keys.messages.filter(clientId => clientId === 'brief'), [], 'no message key of the expired session is left')
})

type Will = NonNullable<IConnectPacket['will']>
const WILL: Will = { topic: 'wills/mortal', payload: Buffer.from('mortal is gone'), qos: 1, retain: false, properties: { willDelayInterval: 2 } }

/**
 * A v5 client with Will Delay 2 s and Session Expiry 30 s loses its socket (no DISCONNECT);
 * once the broker has seen that, the broker is killed with SIGKILL, well before the 2 s pass.
 * Returns when the socket was destroyed.
 */
async function loseClientThenCrash (broker: CliBroker): Promise<number> {
  const mortal = await RawClient.connect(broker.port, 5)
  const connack = await mortal.handshake({ protocolVersion: 5, clientId: 'mortal', clean: false, properties: { sessionExpiryInterval: 30 }, will: WILL })
  assert.is(connack.reasonCode, 0)
  const lostAt = Date.now()
  mortal.end()
  await broker.process.waitFor(() => logsOf(broker, 'client disconnected').find(line => line.clientId === 'mortal'), 'mortal\'s disconnection in the log')
  await quietFor(150) // the session record with its pending will is written on the next turn
  broker.process.child.kill('SIGKILL')
  await broker.process.exited
  assert.ok(Date.now() - lostAt < 1500, 'the broker died before the will was due')
  assert.equal(logsOf(broker, 'publishing delayed will'), [], 'and had not sent it')
  return lostAt
}

test('[MQTT-3.1.2-8] a delayed will survives a kill -9: the restarted broker sends it once, when its delay (counted from the lost connection) runs out', async ({ dir }) => {
  let broker = await startLevelCli(dir)
  const lostAt = await loseClientThenCrash(broker)

  broker = await startLevelCli(dir)
  const watcher = await connectClient(urlOf(broker), { protocolVersion: 5, clientId: 'watcher' })
  const arrivals: number[] = []
  const wills = collect(watcher)
  watcher.on('message', () => arrivals.push(Date.now()))
  await watcher.subscribeAsync('wills/#', { qos: 1 })
  await eventually(() => wills.length >= 1, 'the will', 5000)
  const after = arrivals[0]! - lostAt
  assert.ok(after >= 1950, `not before its 2 s delay (${after} ms after the connection was lost)`)
  assert.ok(after <= 3500, `about when the delay ran out (${after} ms after the connection was lost)`)
  await quietFor(1000)
  assert.equal(wills.map(will => `${will.topic}=${will.payload}`), ['wills/mortal=mortal is gone'], 'exactly once')

  // Sent means done: the stored session no longer holds it, so no later restart sends it again.
  await broker.process.stop('SIGTERM', 5000)
  const stored = sessionIn(await loadDataDir(dir), 'mortal')
  assert.ok(stored !== undefined, 'the session itself is still there (30 s expiry)')
  assert.is(stored.will, undefined, 'without the will it has sent')
})

test('[MQTT-3.1.3-9] a client that comes back after a kill -9 and the restart, before its will delay runs out, cancels its delayed will', async ({ dir }) => {
  let broker = await startLevelCli(dir)
  const lostAt = await loseClientThenCrash(broker)

  broker = await startLevelCli(dir)
  const watcher = await connectClient(urlOf(broker), { protocolVersion: 5, clientId: 'watcher' })
  const wills = collect(watcher)
  await watcher.subscribeAsync('wills/#', { qos: 1 })
  const mortal = await openV5(urlOf(broker), persistent('mortal', 30))
  assert.ok(Date.now() - lostAt < 1900, 'the client is back before the delay ran out')
  assert.is(mortal.connack.sessionPresent, true, 'and resumes its session')
  await quietFor(lostAt + 3000 - Date.now())
  assert.equal(wills, [], 'no will was sent')

  await closeAllClients()
  await broker.process.stop('SIGTERM', 5000)
  assert.is(sessionIn(await loadDataDir(dir), 'mortal')?.will, undefined, 'and none is left on disk to send later')
})

test('[MQTT-3.1.2-8] the will of a session that expired while the broker was down is sent at the restart to every durable subscriber of its topic, whatever their client ids', async ({ dir }) => {
  let broker = await startLevelBroker(dir)
  // Two durable subscribers whose client ids sort before and after the will's client.
  for (const clientId of ['a-early', 'z-late']) {
    const { client } = await acceptedV5(broker, { clientId, clean: false, properties: { sessionExpiryInterval: 3600 } })
    await rawSubscribe(client, [{ topic: 'wills/#', qos: 1 }])
    client.send({ cmd: 'disconnect', reasonCode: 0 })
    await client.closed
  }
  // Its session (1 s) ends before its will delay (5 s): the will is due when the session ends.
  const mortal = await RawClient.connect(broker.port, 5)
  await mortal.handshake({ protocolVersion: 5, clientId: 'm-mortal', clean: false, properties: { sessionExpiryInterval: 1 }, will: { ...WILL, topic: 'wills/m-mortal', properties: { willDelayInterval: 5 } } })
  mortal.end()
  await eventually(() => broker.broker.sessions.get('m-mortal')?.online === false, 'the broker to see the connection lost')
  await stopLevelBroker(broker)
  const stored = sessionIn(await loadDataDir(dir), 'm-mortal')
  assert.ok(stored?.will !== undefined && stored.expiresAt !== undefined, 'the session was stored with its will and expiry')
  await quietFor(stored.expiresAt - Date.now() + 100)

  broker = await startLevelBroker(dir)
  const early = await openV5(broker.url, persistent('a-early', 3600))
  const late = await openV5(broker.url, persistent('z-late', 3600))
  await eventually(() => early.received.length + late.received.length >= 2, 'the will at both subscribers', 2000).catch(() => undefined)
  await quietFor(200)
  assert.equal(early.received.map(describe), ['wills/m-mortal=mortal is gone q1'], 'a-early got the will')
  assert.equal(late.received.map(describe), ['wills/m-mortal=mortal is gone q1'], 'z-late got the will')
})

/** What a restarted broker tells `clientId` about its session, and what the disk held of it before the restart. */
async function afterRestart (dir: string, clientId: string): Promise<{ sessionPresent: boolean, onDisk: string }> {
  const stored = sessionIn(await loadDataDir(dir), clientId)
  const onDisk = stored === undefined ? 'nothing on disk' : `on disk: a session record (expiry interval ${String(stored.expiryInterval)} s, expiresAt ${String(stored.expiresAt)}) with ${stored.subscriptions.length} subscriptions and ${stored.messages.length} messages`
  const broker = await startLevelBroker(dir)
  const back = await openV5(broker.url, persistent(clientId, 3600))
  await quietFor(200)
  const sessionPresent = back.connack.sessionPresent
  assert.equal(back.received, [], `no old messages for ${clientId} (${onDisk})`)
  return { sessionPresent, onDisk }
}

test('[MQTT-4.1.0-2] a v5 client that sets Session Expiry 0 in DISCONNECT ends its session: it is not back after a restart, nor on disk', async ({ dir }) => {
  const broker = await startLevelBroker(dir)
  const { client } = await acceptedV5(broker, { clientId: 'leaver', clean: false, properties: { sessionExpiryInterval: 3600 } })
  await rawSubscribe(client, [{ topic: 'leaver/t', qos: 1 }])
  client.send({ cmd: 'disconnect', reasonCode: 0, properties: { sessionExpiryInterval: 0 } })
  await client.closed
  await eventually(() => broker.broker.sessions.get('leaver') === undefined, 'the session to end at once')
  await stopLevelBroker(broker)

  const { sessionPresent, onDisk } = await afterRestart(dir, 'leaver')
  assert.is(sessionPresent, false, `session present 0 after the restart (${onDisk})`)
  assert.is(onDisk, 'nothing on disk')
})

test('[MQTT-4.1.0-2] a v5 client that resumes its session with Session Expiry 0 ends it when it leaves: it is not back after a restart, nor on disk', async ({ dir }) => {
  const broker = await startLevelBroker(dir)
  await queueFor(broker, ['returner'], () => 3600, 'returner/t', 2)
  const { client, connack } = await acceptedV5(broker, { clientId: 'returner', clean: false, properties: { sessionExpiryInterval: 0 } })
  assert.is(connack.sessionPresent, true, 'the stored session is resumed')
  for (let n = 0; n < 2; n++) {
    const publish = await client.next('publish')
    client.send({ cmd: 'puback', messageId: publish.messageId!, reasonCode: 0 })
  }
  client.send({ cmd: 'disconnect', reasonCode: 0 })
  await client.closed
  await eventually(() => broker.broker.sessions.get('returner') === undefined, 'the session to end with the connection')
  await stopLevelBroker(broker)

  const { sessionPresent, onDisk } = await afterRestart(dir, 'returner')
  assert.is(sessionPresent, false, `session present 0 after the restart (${onDisk})`)
  assert.is(onDisk, 'nothing on disk')
})

test('300 v5 clients that subscribe, take QoS 1 messages and end their session with Session Expiry 0 in DISCONNECT leave no session and no message on disk', async ({ dir }) => {
  const cycles = 300
  const broker = await startLevelBroker(dir)
  const publisher = await RawClient.connect(broker.port, 5)
  await publisher.handshake({ protocolVersion: 5, clientId: 'churn-publisher' })
  let messageId = 0
  for (let i = 0; i < cycles; i++) {
    const clientId = `churn-${i}`
    const { client: subscriber } = await acceptedV5(broker, { clientId, clean: false, properties: { sessionExpiryInterval: 300 } })
    await rawSubscribe(subscriber, [{ topic: `churn/${i}`, qos: 1 }])
    for (let n = 0; n < 3; n++) {
      messageId = messageId % 65535 + 1
      publisher.send({ cmd: 'publish', topic: `churn/${i}`, payload: Buffer.from(`message ${n} of cycle ${i}`), qos: 1, messageId, retain: false, dup: false })
      await publisher.next('puback')
      const publish = await subscriber.next('publish')
      // The last one is left unacknowledged: the session still holds it when it ends.
      if (n < 2) subscriber.send({ cmd: 'puback', messageId: publish.messageId!, reasonCode: 0 })
    }
    subscriber.send({ cmd: 'disconnect', reasonCode: 0, properties: { sessionExpiryInterval: 0 } })
    await subscriber.closed
  }
  publisher.send({ cmd: 'disconnect', reasonCode: 0 })
  await publisher.closed
  assert.is(broker.broker.sessions.size, 0, 'no session left in memory')
  await stopLevelBroker(broker)

  const contents = await loadDataDir(dir)
  assert.is(contents.sessions.length, 0, `no session left in the store (found ${contents.sessions.length}, holding ${contents.sessions.reduce((sum, session) => sum + session.messages.length, 0)} messages)`)
  const keys = await rawKeys(dir)
  assert.equal(keys.sessions.length + keys.messages.length + keys.releases.length, 0,
    `no key left on disk (${keys.sessions.length} session records, ${keys.messages.length} messages, ${keys.releases.length} release ids)`)
  const bytes = directoryBytes(dir)
  assert.ok(bytes < 5 * 1024 * 1024, `the data directory stays small (${bytes} bytes)`)
})

const writeFailure = await prlimitAvailable() ? test : test.skip

writeFailure('[MQTT-3.4.2-1] when the store cannot write (file size limit), a v5 publisher of a QoS 1 message gets PUBACK 0x80 or 0x97; the broker stays up, logs the failure and recovers', async ({ dir }) => {
  const broker = await startLevelCli(dir)
  const hoarder = await openV5(urlOf(broker), persistent('hoarder', 3600))
  await hoarder.client.subscribeAsync('fill/#', { qos: 1 })
  await hoarder.client.endAsync()

  // Every message for the offline subscriber is written; LevelDB's log file soon hits the cap (EFBIG).
  await limitFileSize(broker.process.pid!, 256 * 1024)
  const publisher = await RawClient.connect(broker.port, 5)
  await publisher.handshake({ protocolVersion: 5, clientId: 'v5-publisher' })
  const payload = Buffer.alloc(4096, 'x')
  const codes: number[] = []
  for (let messageId = 1; messageId <= 300; messageId++) {
    publisher.send({ cmd: 'publish', topic: 'fill/v5', payload, qos: 1, messageId, retain: false, dup: false })
    const puback = await publisher.next('puback')
    assert.is(puback.messageId, messageId)
    codes.push(puback.reasonCode ?? 0)
    if (codes.at(-1) !== 0) break
  }
  const refused = codes.at(-1)!
  assert.ok(refused === 0x80 || refused === 0x97, `a PUBACK refuses the message that could not be written (reason codes: ${codes.map(code => `0x${code.toString(16)}`).join(' ')})`)
  assert.ok(codes.length > 1, 'messages written before the limit were acknowledged with success')
  assert.not.ok(publisher.connectionClosed, 'the v5 publisher stays connected')

  await broker.process.waitFor(() => logsOf(broker, 'store write failed')[0], 'the "store write failed" log line')
  const failed = logsOf(broker, 'store write failed')[0]!
  assert.is(failed.level, 50, 'logged as an error')
  assert.match(String((failed.err as { message?: string } | undefined)?.message), /File too large/, 'the log says why')

  // The broker is up: new clients connect, QoS 0 routes, and the store writes again (a fresh log file).
  assert.ok(broker.process.running, 'the broker is still running')
  const listener = await connectClient(urlOf(broker), { protocolVersion: 5, clientId: 'listener' })
  const heard = collect(listener)
  await listener.subscribeAsync('live/#', { qos: 0 })
  const other = await connectClient(urlOf(broker), { protocolVersion: 5, clientId: 'other' })
  await other.publishAsync('live/q0', 'qos 0 still routes', { qos: 0 })
  await eventually(() => heard.length === 1, 'the QoS 0 message')
  publisher.send({ cmd: 'publish', topic: 'fill/v5', payload: Buffer.from('after the failure'), qos: 1, messageId: 1000, retain: false, dup: false })
  const recovered = await publisher.next('puback')
  assert.is(recovered.reasonCode ?? 0, 0, 'the next message is written and acknowledged')
})

test.run()
