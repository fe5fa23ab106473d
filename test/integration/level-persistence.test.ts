import type { MqttClient } from 'mqtt'
import type { IConnackPacket } from 'mqtt-packet'
import * as assert from 'uvu/assert'
import { closeAllClients, collect, connectClient, eventually, quietFor, type Received } from '../helpers/mqtt-clients.js'
import { runCli } from '../helpers/processes.js'
import { RawClient } from '../helpers/raw-client.js'
import {
  directoryBytes, levelSuite, limitFileSize, loadDataDir, logsOf, prlimitAvailable, rawKeys,
  sessionIn, startLevelBroker, startLevelCli, stopLevelBroker, urlOf
} from '../helpers/level-data.js'

/**
 * `--storage level` as an MQTT 3.1.1 user sees it, with real LevelDB in a fresh directory per
 * test and the real broker (the built CLI where a process must stop, start or fail; in this
 * process where only speed matters): what a graceful restart keeps, what a second broker on
 * the same directory does, that ended sessions leave nothing on disk, and what publishers see
 * when the store cannot write. MQTT 5 cases are in level-persistence-v5.test.ts.
 */

const test = levelSuite('LevelDB persistence (MQTT 3.1.1)')

/**
 * Connects MQTT.js (3.1.1) recording every PUBLISH in the order it came over the wire, from
 * before CONNACK (MQTT.js itself emits a QoS 2 message only at PUBREL, out of wire order).
 */
async function open (url: string, clientId: string, clean: boolean): Promise<{ client: MqttClient, received: Received[], connack: IConnackPacket }> {
  const received: Received[] = []
  let connack: IConnackPacket | undefined
  const client = await connectClient(url, { clientId, clean }, client => {
    client.on('packetreceive', packet => {
      if (packet.cmd === 'publish') received.push({ topic: packet.topic, payload: packet.payload.toString(), qos: packet.qos, retain: packet.retain, dup: packet.dup, packet })
    })
    client.once('connect', packet => { connack = packet })
  })
  return { client, received, connack: connack! }
}

const summary = (messages: readonly Received[]): string[] => messages.map(m => `${m.topic}=${m.payload} q${m.qos}${m.retain ? ' retained' : ''}`)

test('[MQTT-3.2.2-2][MQTT-3.2.2-3][MQTT-3.1.2-4][MQTT-3.1.2-5] after a SIGTERM restart (--durability fsync) a CleanSession=0 subscriber is present, with its QoS 1 and QoS 2 messages queued, its subscriptions, and the retained messages', async ({ dir }) => {
  let broker = await startLevelCli(dir, 'fsync')
  const durable = await open(urlOf(broker), 'durable', false)
  await durable.client.subscribeAsync({ 'news/+': { qos: 2 }, 'alerts/#': { qos: 1 } })
  await durable.client.endAsync()

  const publisher = await connectClient(urlOf(broker), { clientId: 'publisher' })
  await publisher.publishAsync('news/a', 'n1', { qos: 1 })
  await publisher.publishAsync('news/b', 'n2', { qos: 2 })
  await publisher.publishAsync('alerts/x', 'a1', { qos: 2 }) // granted QoS 1: delivered at QoS 1
  await publisher.publishAsync('news/c', 'dropped', { qos: 0 }) // QoS 0 is not queued for an offline client
  await publisher.publishAsync('status/broker', 'up', { qos: 1, retain: true })
  await publisher.publishAsync('status/old', 'soon cleared', { qos: 1, retain: true })
  await publisher.publishAsync('status/old', '', { qos: 1, retain: true }) // clears it [MQTT-3.3.1-10]
  await publisher.endAsync()

  const exit = await broker.process.stop('SIGTERM', 5000)
  assert.equal(exit, { code: 0, signal: null }, `a SIGTERM stops the broker cleanly\n${broker.process.output()}`)
  assert.ok(logsOf(broker, 'broker stopped').length === 1, 'the broker logged that it stopped')

  broker = await startLevelCli(dir, 'fsync')
  const restored = logsOf(broker, 'restored from store')[0]
  assert.is(restored?.sessions, 1, 'the broker logged one restored session')
  assert.is(restored?.messages, 3, 'and its three queued messages')

  const back = await open(urlOf(broker), 'durable', false)
  assert.is(back.connack.sessionPresent, true, 'session present 1 for the stored session')
  await eventually(() => back.received.length >= 3, 'the three queued messages')
  await quietFor(200)
  assert.equal(summary(back.received), ['news/a=n1 q1', 'news/b=n2 q2', 'alerts/x=a1 q1'], 'the queued messages, in order, at their granted QoS, once each')

  const stranger = await open(urlOf(broker), 'stranger', false)
  assert.is(stranger.connack.sessionPresent, false, 'session present 0 for a client id the broker never saw')

  // The subscriptions came back too: new messages are routed to the resumed session.
  const later = await connectClient(urlOf(broker), { clientId: 'later' })
  await later.publishAsync('news/d', 'after restart', { qos: 2 })
  await later.publishAsync('alerts/y', 'after restart', { qos: 1 })
  await eventually(() => back.received.length >= 5, 'the messages published after the restart')
  assert.equal(summary(back.received.slice(3)), ['news/d=after restart q2', 'alerts/y=after restart q1'])

  const fresh = await open(urlOf(broker), 'fresh', true)
  await fresh.client.subscribeAsync('status/#', { qos: 1 })
  await eventually(() => fresh.received.length >= 1, 'the retained message')
  await quietFor(200)
  assert.equal(summary(fresh.received), ['status/broker=up q1 retained'], 'the retained message is back, the cleared one is not')

  // What was delivered and acknowledged is gone from the disk: no redelivery after the next restart.
  await closeAllClients()
  await broker.process.stop('SIGTERM', 5000)
  const contents = await loadDataDir(dir)
  assert.equal(contents.sessions.map(session => session.clientId).sort(), ['durable', 'stranger'])
  assert.equal(sessionIn(contents, 'durable')?.messages, [], 'no messages left for the subscriber that acknowledged them all')
  assert.equal(contents.retained.map(message => message.topic), ['status/broker'])
})

test('a second broker on the same --data-dir fails at start with exit code 1 and one clear line naming the directory; the first one keeps serving', async ({ dir }) => {
  const first = await startLevelCli(dir)
  const second = await runCli(['--host', '127.0.0.1', '--port', '0', '--storage', 'level', '--data-dir', dir, '--durability', 'os'])
  assert.is(second.code, 1, `exit code 1\n${second.stderr}`)
  const lines = second.stderr.trim().split('\n')
  assert.equal(lines, [`troupe: another broker is using ${dir}; stop it or choose another --data-dir`], 'stderr is exactly one line that names the directory')
  assert.not.match(second.stdout, /broker listening/, 'the second broker never listened')
  const again = await runCli(['--host', '127.0.0.1', '--port', '0', '--storage', 'level', '--data-dir', dir, '--durability', 'os'])
  assert.is(again.code, 1, 'the failed start left the first broker\'s lock in place: a further start fails the same way')

  // The first broker still holds its directory: it serves, and what it writes survives it.
  const client = await connectClient(urlOf(first), { clientId: 'still-here' })
  await client.publishAsync('kept/by/first', 'yes', { qos: 1, retain: true })
  await client.endAsync()
  assert.ok(first.process.running, 'the first broker is still running')
  await first.process.stop('SIGTERM', 5000)

  const third = await startLevelCli(dir)
  const fresh = await open(urlOf(third), 'checker', true)
  await fresh.client.subscribeAsync('kept/#', { qos: 1 })
  await eventually(() => fresh.received.length === 1, 'the retained message the first broker wrote')
  assert.is(fresh.received[0]!.payload, 'yes')
})

test('[MQTT-3.1.2-6] 300 clients that connect with CleanSession=0, subscribe, take QoS 1 messages and end their session with a CleanSession=1 connect leave no session and no message on disk', async ({ dir }) => {
  const cycles = 300
  const broker = await startLevelBroker(dir)
  const publisher = await RawClient.connect(broker.port, 4)
  await publisher.handshake({ clientId: 'churn-publisher' })
  let messageId = 0
  for (let i = 0; i < cycles; i++) {
    const clientId = `churn-${i}`
    const subscriber = await RawClient.connect(broker.port, 4)
    await subscriber.handshake({ clientId, clean: false })
    subscriber.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: `churn/${i}`, qos: 1 }] })
    await subscriber.next('suback')
    for (let n = 0; n < 3; n++) {
      messageId = messageId % 65535 + 1
      publisher.send({ cmd: 'publish', topic: `churn/${i}`, payload: Buffer.from(`message ${n} of cycle ${i}`), qos: 1, messageId, retain: false, dup: false })
      await publisher.next('puback')
      const publish = await subscriber.next('publish')
      // The last one is left unacknowledged: the session still holds it when it ends.
      if (n < 2) subscriber.send({ cmd: 'puback', messageId: publish.messageId! })
    }
    subscriber.send({ cmd: 'disconnect' })
    await subscriber.closed
    const cleaner = await RawClient.connect(broker.port, 4)
    const connack = await cleaner.handshake({ clientId, clean: true })
    assert.is(connack.sessionPresent, false)
    cleaner.send({ cmd: 'disconnect' })
    await cleaner.closed
  }
  publisher.send({ cmd: 'disconnect' })
  await publisher.closed
  await stopLevelBroker(broker)

  const contents = await loadDataDir(dir)
  assert.equal(contents.sessions.map(session => session.clientId), [], 'no session left in the store')
  const keys = await rawKeys(dir)
  assert.equal(keys.sessions.length + keys.messages.length + keys.releases.length, 0,
    `no key left on disk (sessions of ${[...new Set(keys.sessions)].length} clients, messages of ${[...new Set(keys.messages)].length}, release ids of ${[...new Set(keys.releases)].length})`)
  const bytes = directoryBytes(dir)
  assert.ok(bytes < 5 * 1024 * 1024, `the data directory stays small (${bytes} bytes)`)
})

const writeFailure = await prlimitAvailable() ? test : test.skip

writeFailure('when the store cannot write (file size limit), a v3 publisher of a QoS 1 message gets no PUBACK and its connection is closed; the broker stays up, logs the failure and recovers', async ({ dir }) => {
  const broker = await startLevelCli(dir)
  const hoarder = await connectClient(urlOf(broker), { clientId: 'hoarder', clean: false })
  await hoarder.subscribeAsync('fill/#', { qos: 1 })
  await hoarder.endAsync()

  // Every message for the offline subscriber is written; LevelDB's log file soon hits the cap (EFBIG).
  await limitFileSize(broker.process.pid!, 256 * 1024)
  const publisher = await RawClient.connect(broker.port, 4)
  await publisher.handshake({ clientId: 'v3-publisher' })
  const payload = Buffer.alloc(4096, 'x')
  let acknowledged = 0
  let closedAt: number | undefined
  for (let messageId = 1; messageId <= 300; messageId++) {
    publisher.send({ cmd: 'publish', topic: 'fill/v3', payload, qos: 1, messageId, retain: false, dup: false })
    try {
      const puback = await publisher.next('puback')
      assert.is(puback.messageId, messageId)
      acknowledged++
    } catch {
      closedAt = messageId
      break
    }
  }
  assert.ok(closedAt !== undefined, `the connection closed without a PUBACK (${acknowledged} PUBACKs came first)`)
  assert.ok(publisher.connectionClosed, 'the broker closed the publisher\'s connection')
  assert.is(acknowledged, closedAt - 1, 'every earlier message was acknowledged, the refused one was not')

  await broker.process.waitFor(() => logsOf(broker, 'store write failed')[0], 'the "store write failed" log line')
  const failed = logsOf(broker, 'store write failed')[0]!
  assert.is(failed.level, 50, 'logged as an error')
  assert.match(String((failed.err as { message?: string } | undefined)?.message), /File too large/, 'the log says why')
  const dropped = await broker.process.waitFor(() => logsOf(broker, 'client disconnected').find(line => line.clientId === 'v3-publisher'), 'the publisher\'s disconnection in the log')
  assert.is(dropped.reason, 'store-failed')

  // The broker is up and routes (QoS 0 needs no write); a QoS 1 publish is acknowledged again.
  assert.ok(broker.process.running, 'the broker is still running')
  const listener = await connectClient(urlOf(broker), { clientId: 'listener' })
  const heard = collect(listener)
  await listener.subscribeAsync('live/#', { qos: 0 })
  const again = await connectClient(urlOf(broker), { clientId: 'v3-publisher' })
  await again.publishAsync('live/q0', 'qos 0 still routes', { qos: 0 })
  await eventually(() => heard.length === 1, 'the QoS 0 message')
  await again.publishAsync('fill/v3', 'after the failure', { qos: 1 })
})

test.run()
