import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { MqttClient } from 'mqtt'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { AclAuthorizer } from '../../runtime/authorization/acl-authorizer.js'
import { closeAllClients, collect, connectClient, eventually, quietFor } from '../helpers/mqtt-clients.js'
import { killAll, spawnTracked, type TrackedProcess } from '../helpers/processes.js'
import { RawClient } from '../helpers/raw-client.js'
import { startBroker, type TestBroker } from '../helpers/test-broker.js'

/**
 * Authorization by a Mosquitto acl_file over real TCP, MQTT 3.1.1 and 3.1: MQTT.js and
 * Eclipse Mosquitto's own clients against an in-process broker whose rules come from a file.
 * A refused SUBSCRIBE filter gets 0x80, a refused PUBLISH is acknowledged and dropped, and
 * every message reaches only the subscribers that may read it. Each rule kind on its own
 * (read, write, readwrite, deny, wildcards, %u and %c patterns, anonymous clients' rules) is
 * in acl-matrix.test.ts; this file has what combines them.
 */
const test = suite<{ broker: TestBroker, directory: string }>('acl: acl_file with v3 clients')

const ACL_FILE = `# Troupe test rules, in Mosquitto's acl_file format
# anonymous clients
topic read public/#
topic readwrite anon/#

user alice
topic readwrite alice/#
topic deny alice/secret/#
topic read sensors/+/temp
topic write sensors/#
topic read $SYS/#

user bob
topic write sensors/#
topic read alice/#
topic read devices/#

# every client
pattern readwrite devices/%c/#
pattern write wills/%u
`

const TIMEOUT_MS = 10_000

test.before.each(async context => {
  context.directory = await mkdtemp(join(tmpdir(), 'troupe-acl-'))
  const file = join(context.directory, 'acl.conf')
  await writeFile(file, ACL_FILE)
  context.broker = await startBroker({}, { authorizer: await AclAuthorizer.fromFile(file) })
})
test.after.each(async context => {
  await killAll()
  await closeAllClients()
  await context.broker.close()
  await rm(context.directory, { recursive: true, force: true })
})

async function client (broker: TestBroker, clientId: string, username?: string): Promise<MqttClient> {
  return await connectClient(broker.url, { clientId, ...(username === undefined ? {} : { username }) })
}

/** SUBACK's return codes for `filters`, from a bare v3.1.1 client (MQTT.js treats 0x80 as an error). */
async function subackCodes (broker: TestBroker, clientId: string, username: string | undefined, filters: string[]): Promise<number[]> {
  const raw = await RawClient.connect(broker.port, 4)
  assert.is((await raw.handshake({ clientId, ...(username === undefined ? {} : { username }) })).returnCode, 0)
  raw.send({ cmd: 'subscribe', messageId: 1, subscriptions: filters.map(topic => ({ topic, qos: 1 })) })
  const suback = await raw.next('suback')
  raw.end()
  return suback.granted as number[]
}

function endpoint (broker: TestBroker): string[] {
  return ['-h', '127.0.0.1', '-p', String(broker.port)]
}

/** mosquitto_sub with debug output (to see its SUBACK) and one `topic|payload` line per message. */
function mosquittoSub (broker: TestBroker, args: string[]): TrackedProcess {
  return spawnTracked('stdbuf', ['-oL', 'mosquitto_sub', ...endpoint(broker), '-d', '-F', 'MSG|%t|%p', ...args])
}

test('[MQTT-3.8.4-5][MQTT-3.9.3-1] a filter the client may not read gets 0x80, the others in the same SUBSCRIBE are granted', async ({ broker }) => {
  assert.equal(await subackCodes(broker, 'alice-1', 'alice', ['alice/#', 'alice/secret/#', 'commands/#', 'sensors/+/temp']), [1, 128, 128, 1])
})

test('[MQTT-3.3.5-2] QoS 0, 1 and 2 to a topic the client may not write are acknowledged as usual and dropped', async ({ broker }) => {
  const reader = await client(broker, 'bob-reader', 'bob')
  const received = collect(reader)
  await reader.subscribeAsync('alice/#', { qos: 2 })
  const alice = await client(broker, 'alice-1', 'alice')
  // bob may read alice/# but not write it: his own PUBLISH there goes nowhere.
  const bob = await client(broker, 'bob-writer', 'bob')
  for (const qos of [0, 1, 2] as const) await bob.publishAsync(`alice/from-bob/q${qos}`, 'no', { qos, retain: qos === 1 })
  await alice.publishAsync('alice/hello', 'yes', { qos: 1 })
  await eventually(() => received.some(message => message.topic === 'alice/hello'), 'alice\'s own message')
  await quietFor(100)
  assert.equal(received.map(message => message.topic), ['alice/hello'])
  assert.equal(broker.broker.router.retainedFor('alice/#'), [], 'a refused retained message is not stored either')
})

test('a wildcard subscription brings only the messages the subscriber may read', async ({ broker }) => {
  const alice = await client(broker, 'alice-1', 'alice')
  const received = collect(alice)
  const [grant] = await alice.subscribeAsync('sensors/#', { qos: 1 })
  assert.is(grant!.qos, 1, 'granted: sensors/+/temp lets some of it through')
  const bob = await client(broker, 'bob-1', 'bob')
  await bob.publishAsync('sensors/kitchen/humidity', '40', { qos: 1 })
  await bob.publishAsync('sensors/kitchen/temp/raw', '2150', { qos: 0 })
  await bob.publishAsync('sensors/kitchen/temp', '21.5', { qos: 1 })
  await eventually(() => received.length > 0, 'the temperature')
  await quietFor(100)
  assert.equal(received.map(message => [message.topic, message.payload]), [['sensors/kitchen/temp', '21.5']])
})

test('[MQTT-3.3.1-6] retained messages sent on SUBSCRIBE obey the read rules too', async ({ broker }) => {
  const bob = await client(broker, 'bob-1', 'bob')
  await bob.publishAsync('sensors/hall/humidity', '55', { qos: 1, retain: true })
  await bob.publishAsync('sensors/hall/temp', '19', { qos: 1, retain: true })
  const alice = await client(broker, 'alice-1', 'alice')
  const received = collect(alice)
  await alice.subscribeAsync('sensors/#', { qos: 1 })
  await eventually(() => received.length > 0, 'the retained temperature')
  await quietFor(100)
  assert.equal(received.map(message => [message.topic, message.retain]), [['sensors/hall/temp', true]])
})

test('[MQTT-3.8.4-5] mosquitto_sub is told its subscription failed (SUBACK 0x80)', async ({ broker }) => {
  const sub = mosquittoSub(broker, ['-V', 'mqttv31', '-u', 'bob', '-t', 'alice/#', '-t', 'sensors/#'])
  await sub.waitForLine(line => line.startsWith('Subscribed (mid:'), TIMEOUT_MS)
  const suback = sub.lines.find(line => line.startsWith('Subscribed (mid:'))!
  assert.match(suback, /: 0, 128$/, `bob may read alice/#, not sensors/#: ${suback}`)
})

test('[MQTT-3.1.2-8] a will is published only on a topic its client may write (checked at CONNECT)', async ({ broker }) => {
  const watcher = await client(broker, 'alice-watch', 'alice')
  const received = collect(watcher)
  await watcher.subscribeAsync('alice/#', { qos: 1 })
  const bobWill = await connectClient(broker.url, { clientId: 'bob-will', username: 'bob', will: { topic: 'alice/bob-left', payload: Buffer.from('bye'), qos: 1, retain: false } })
  const aliceWill = await connectClient(broker.url, { clientId: 'alice-will', username: 'alice', will: { topic: 'alice/alice-left', payload: Buffer.from('bye'), qos: 1, retain: false } })
  // Dropped without DISCONNECT: the wills are due.
  bobWill.stream.destroy()
  aliceWill.stream.destroy()
  await eventually(() => received.length > 0, 'alice\'s will')
  await quietFor(150)
  assert.equal(received.map(message => message.topic), ['alice/alice-left'], 'bob may not write alice/#: his will was discarded')
  assert.ok(broker.logs.some(line => line.msg === 'will discarded: the client may not publish on its topic' && line.clientId === 'bob-will'), 'the log says which will was discarded')
})

test('$SYS is read-only for clients even with a grant: alice reads $SYS/# but cannot publish there', async ({ broker }) => {
  const alice = await client(broker, 'alice-1', 'alice')
  const received = collect(alice)
  const [grant] = await alice.subscribeAsync('$SYS/#', { qos: 1 })
  assert.is(grant!.qos, 1)
  await alice.publishAsync('$SYS/broker/forged', 'x', { qos: 1 })
  await eventually(() => received.some(message => message.topic === '$SYS/broker/version'), 'the broker\'s own $SYS/broker/version')
  await quietFor(150)
  assert.equal(received.filter(message => message.topic === '$SYS/broker/forged'), [])
})

test('$SYS is read-only for clients without any rules too (no authorizer): a client PUBLISH there is dropped', async () => {
  const open = await startBroker()
  try {
    const reader = await connectClient(open.url, { clientId: 'reader' })
    const received = collect(reader)
    await reader.subscribeAsync(['$SYS/#', 'plain/#'], { qos: 1 })
    const writer = await connectClient(open.url, { clientId: 'writer' })
    await writer.publishAsync('$SYS/broker/forged', 'x', { qos: 1 })
    await writer.publishAsync('plain/after', 'y', { qos: 1 })
    await eventually(() => received.some(message => message.topic === 'plain/after'), 'plain/after')
    await quietFor(100)
    // The broker's own $SYS values arrive too; the client's does not.
    assert.equal(received.map(message => message.topic).filter(topic => !topic.startsWith('$SYS/') || topic === '$SYS/broker/forged'), ['plain/after'])
    assert.ok(received.some(message => message.topic === '$SYS/broker/clients/connected'), 'the broker\'s own $SYS values')
  } finally {
    await closeAllClients()
    await open.close()
  }
})

test.run()
