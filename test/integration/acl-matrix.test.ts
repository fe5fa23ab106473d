import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { MqttClient } from 'mqtt'
import type { ISubackPacket } from 'mqtt-packet'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { stringify } from 'yaml'
import type { AclAccess } from '../../runtime/authorization/acl-rule.js'
import { loadConfig } from '../../runtime/config/load-config.js'
import type { SubscribeDeniedReason } from '../../runtime/config/subscribe-denied-reason.js'
import { closeAllClients, collect, connectClient, eventually, type Received } from '../helpers/mqtt-clients.js'
import { runCli } from '../helpers/processes.js'
import { startBroker, type TestBroker } from '../helpers/test-broker.js'

/**
 * Every kind of access rule, table-driven, with real MQTT.js clients over TCP at MQTT 3.1.1
 * and 5.0, the rules given once as a Mosquitto acl_file and once as the `acl` list of a YAML
 * config file. For each rule the client under test makes an allowed and a refused PUBLISH and
 * an allowed and a refused SUBSCRIBE, and the outcome is what a client sees:
 *
 * - a refused SUBSCRIBE: SUBACK 0x80 (v3), 0x87 Not authorized (v5), or 0x80 with
 *   subscribe-denied-reason: unspecified;
 * - a refused QoS 1 PUBLISH: PUBACK as usual and the message dropped (v3) [MQTT-3.3.5-2], PUBACK
 *   0x87 (v5); an observer that may read everything gets only the allowed one;
 * - an allowed SUBSCRIBE brings the messages published on it.
 *
 * Two helper users are in every rule set: `observer` reads `#`, `feeder` writes `#`.
 */

/** One rule as the YAML `acl` list writes it; the acl_file form is made from the same data. */
interface Rule {
  readonly user?: string
  readonly pattern?: true
  readonly access: AclAccess
  readonly topic: string
}

interface MatrixCase {
  readonly name: string
  readonly rules: readonly Rule[]
  /** The client under test; without a username it is anonymous. */
  readonly clientId: string
  readonly username?: string
  readonly publish: { readonly allowed: string, readonly refused: string }
  /** Filters; the feeder publishes on a topic each one matches (+ and # filled in). */
  readonly subscribe: { readonly allowed: string, readonly refused: string }
}

const HELPERS: readonly Rule[] = [
  { user: 'observer', access: 'read', topic: '#' },
  { user: 'feeder', access: 'write', topic: '#' }
]

const CASES: readonly MatrixCase[] = [
  {
    // topic write outbox/# only so that the client has something it may publish.
    name: 'user + topic read: read is not write',
    rules: [{ user: 'alice', access: 'read', topic: 'news/#' }, { user: 'alice', access: 'write', topic: 'outbox/#' }],
    clientId: 'alice-1',
    username: 'alice',
    publish: { allowed: 'outbox/alice', refused: 'news/today' },
    subscribe: { allowed: 'news/#', refused: 'weather/#' }
  },
  {
    // topic read status/# only so that the client has something it may subscribe to.
    name: 'user + topic write: write is not read',
    rules: [{ user: 'alice', access: 'write', topic: 'commands/#' }, { user: 'alice', access: 'read', topic: 'status/#' }],
    clientId: 'alice-1',
    username: 'alice',
    publish: { allowed: 'commands/lamp', refused: 'status/lamp' },
    subscribe: { allowed: 'status/lamp', refused: 'commands/#' }
  },
  {
    name: 'user + topic readwrite on one exact topic: not the levels below it, nor its siblings',
    rules: [{ user: 'alice', access: 'readwrite', topic: 'rooms/kitchen' }],
    clientId: 'alice-1',
    username: 'alice',
    publish: { allowed: 'rooms/kitchen', refused: 'rooms/kitchen/light' },
    subscribe: { allowed: 'rooms/kitchen', refused: 'rooms/hall' }
  },
  {
    name: 'user + topic deny: takes back part of a broader readwrite grant',
    rules: [{ user: 'alice', access: 'readwrite', topic: 'home/#' }, { user: 'alice', access: 'deny', topic: 'home/safe/#' }],
    clientId: 'alice-1',
    username: 'alice',
    publish: { allowed: 'home/door', refused: 'home/safe/code' },
    subscribe: { allowed: 'home/door/#', refused: 'home/safe/#' }
  },
  {
    name: 'user + topic with +: one level, any name',
    rules: [{ user: 'alice', access: 'readwrite', topic: 'sensors/+/temp' }],
    clientId: 'alice-1',
    username: 'alice',
    publish: { allowed: 'sensors/attic/temp', refused: 'sensors/attic/humidity' },
    subscribe: { allowed: 'sensors/+/temp', refused: 'sensors/attic/humidity' }
  },
  {
    name: 'user + topic with #: every level below, nothing beside',
    rules: [{ user: 'alice', access: 'readwrite', topic: 'logs/#' }],
    clientId: 'alice-1',
    username: 'alice',
    publish: { allowed: 'logs/app/error/disk', refused: 'logbook/app' },
    subscribe: { allowed: 'logs/app/#', refused: 'logbook/#' }
  },
  {
    name: 'pattern with %u: each user its own subtree',
    rules: [{ pattern: true, access: 'readwrite', topic: 'users/%u/#' }],
    clientId: 'alice-1',
    username: 'alice',
    publish: { allowed: 'users/alice/inbox', refused: 'users/bob/inbox' },
    subscribe: { allowed: 'users/alice/#', refused: 'users/bob/#' }
  },
  {
    name: 'pattern with %c: each client id its own subtree',
    rules: [{ pattern: true, access: 'readwrite', topic: 'devices/%c/#' }],
    clientId: 'dev-7',
    username: 'alice',
    publish: { allowed: 'devices/dev-7/state', refused: 'devices/dev-8/state' },
    subscribe: { allowed: 'devices/dev-7/#', refused: 'devices/dev-8/#' }
  },
  {
    name: 'anonymous client: the rules before any user line',
    rules: [{ access: 'read', topic: 'public/#' }, { access: 'readwrite', topic: 'anon/#' }, { user: 'alice', access: 'readwrite', topic: 'alice/#' }],
    clientId: 'anon-1',
    publish: { allowed: 'anon/hello', refused: 'public/news' },
    subscribe: { allowed: 'public/#', refused: 'alice/#' }
  },
  {
    name: 'a user gets none of the anonymous clients\' rules',
    rules: [{ access: 'read', topic: 'public/#' }, { access: 'readwrite', topic: 'anon/#' }, { user: 'alice', access: 'readwrite', topic: 'alice/#' }],
    clientId: 'alice-1',
    username: 'alice',
    publish: { allowed: 'alice/hello', refused: 'anon/hello' },
    subscribe: { allowed: 'alice/#', refused: 'public/#' }
  }
]

type RuleSource = 'acl-file' | 'yaml acl'
type Version = 4 | 5

const NOT_AUTHORIZED = 0x87
const UNSPECIFIED_ERROR = 0x80
const TIMEOUT_MS = 10_000

const test = suite<{ directory: string, broker?: TestBroker }>('acl matrix: every rule kind, acl_file and YAML, MQTT 3.1.1 and 5')

test.before.each(async context => { context.directory = await mkdtemp(join(tmpdir(), 'troupe-acl-matrix-')) })
test.after.each(async context => {
  await closeAllClients()
  await context.broker?.close()
  context.broker = undefined
  await rm(context.directory, { recursive: true, force: true })
})

/** The rules as a Mosquitto acl_file: anonymous clients' lines first, then each user's section, then the patterns. */
function aclFileText (rules: readonly Rule[]): string {
  const line = (rule: Rule): string => `${rule.pattern === true ? 'pattern' : 'topic'} ${rule.access} ${rule.topic}`
  const topics = rules.filter(rule => rule.pattern !== true)
  const users = [...new Set(topics.flatMap(rule => rule.user === undefined ? [] : [rule.user]))]
  return [
    '# anonymous clients',
    ...topics.filter(rule => rule.user === undefined).map(line),
    ...users.flatMap(user => ['', `user ${user}`, ...topics.filter(rule => rule.user === user).map(line)]),
    '',
    '# every client',
    ...rules.filter(rule => rule.pattern === true).map(line),
    ''
  ].join('\n')
}

/** Starts a broker with `rules` from the source under test, read through the configuration loader as the CLI does. */
async function brokerWith (context: { directory: string, broker?: TestBroker }, source: RuleSource, rules: readonly Rule[], deniedReason?: SubscribeDeniedReason): Promise<TestBroker> {
  const all = [...rules, ...HELPERS]
  const reason = deniedReason === undefined ? {} : { 'subscribe-denied-reason': deniedReason }
  let loaded
  if (source === 'acl-file') {
    const file = join(context.directory, 'acl.conf')
    await writeFile(file, aclFileText(all))
    loaded = loadConfig({ flags: { 'acl-file': file, ...reason } })
  } else {
    const file = join(context.directory, 'troupe.yaml')
    await writeFile(file, stringify({ acl: all, ...reason }))
    loaded = loadConfig({ file })
  }
  const { aclFile, acl, subscribeDeniedReason } = loaded.config
  context.broker = await startBroker({ aclFile, acl, subscribeDeniedReason })
  return context.broker
}

async function connect (broker: TestBroker, version: Version, clientId: string, username?: string): Promise<MqttClient> {
  return await connectClient(broker.url, { clientId, protocolVersion: version, ...(username === undefined ? {} : { username }) })
}

/** The PUBACK reason code MQTT.js got for a QoS 1 PUBLISH (0 when it resolved). */
async function publishCode (client: MqttClient, topic: string, payload: string): Promise<number> {
  try {
    await client.publishAsync(topic, payload, { qos: 1 })
    return 0
  } catch (error) {
    // MQTT.js's ErrorWithReasonCode (not exported by the package) carries the PUBACK's code.
    const code = (error as { code?: unknown }).code
    if (typeof code !== 'number') throw error
    return code
  }
}

/** The SUBACK code for one filter: the granted QoS, or the failure code of the SUBACK MQTT.js rejected with. */
async function subscribeCode (client: MqttClient, filter: string): Promise<number> {
  try {
    const [grant] = await client.subscribeAsync(filter, { qos: 1 })
    return grant!.qos
  } catch (error) {
    // MQTT.js's ErrorWithSubackPacket (not exported by the package) carries the SUBACK.
    const suback = (error as { packet?: ISubackPacket }).packet
    if (suback === undefined) throw error
    return suback.granted[0] as number
  }
}

/** A topic `filter` matches, for the feeder to publish on. */
function topicIn (filter: string): string {
  return filter.split('/').map(level => level === '+' || level === '#' ? 'any' : level).join('/')
}

function topics (received: readonly Received[]): string[] {
  return received.map(message => message.topic)
}

async function checkCase (broker: TestBroker, version: Version, entry: MatrixCase, subscribeRefusal: number): Promise<void> {
  const observer = await connect(broker, version, 'observer-1', 'observer')
  const observed = collect(observer)
  await observer.subscribeAsync('#', { qos: 1 })
  const client = await connect(broker, version, entry.clientId, entry.username)
  const received = collect(client)

  // PUBLISH: the refused one first; the observer gets messages of one publisher in order, so
  // once the allowed one is there, the refused one would have been too.
  assert.is(await publishCode(client, entry.publish.refused, 'refused'), version === 5 ? NOT_AUTHORIZED : 0,
    version === 5 ? 'v5: PUBACK 0x87 for the refused PUBLISH' : 'v3: PUBACK as usual for the refused PUBLISH')
  assert.is(await publishCode(client, entry.publish.allowed, 'allowed'), 0, 'PUBACK 0x00 for the allowed PUBLISH')
  await eventually(() => observed.length > 0, `the allowed message on ${entry.publish.allowed} at the observer`, TIMEOUT_MS)
  assert.equal(topics(observed), [entry.publish.allowed], 'only the allowed PUBLISH went through')

  // SUBSCRIBE: the refused filter fails, the allowed one brings the feeder's message.
  assert.is(await subscribeCode(client, entry.subscribe.refused), subscribeRefusal, `SUBACK for the refused filter ${entry.subscribe.refused}`)
  assert.is(await subscribeCode(client, entry.subscribe.allowed), 1, `SUBACK grants QoS 1 for ${entry.subscribe.allowed}`)
  const feeder = await connect(broker, version, 'feeder-1', 'feeder')
  await feeder.publishAsync(topicIn(entry.subscribe.refused), 'not for the client', { qos: 1 })
  await feeder.publishAsync(topicIn(entry.subscribe.allowed), 'for the client', { qos: 1 })
  await eventually(() => received.length > 0, `the feeder's message on ${topicIn(entry.subscribe.allowed)}`, TIMEOUT_MS)
  assert.equal(received.map(message => [message.topic, message.payload]), [[topicIn(entry.subscribe.allowed), 'for the client']])
}

for (const entry of CASES) {
  for (const source of ['acl-file', 'yaml acl'] as const) {
    test(`[MQTT-3.8.4-5][MQTT-3.3.5-2] MQTT 3.1.1, ${source}, ${entry.name}: SUBACK 0x80, refused PUBLISH dropped`, async context => {
      await checkCase(await brokerWith(context, source, entry.rules), 4, entry, UNSPECIFIED_ERROR)
    })
    test(`[MQTT-3.8.4-7][MQTT-3.4.2-1] MQTT 5, ${source}, ${entry.name}: SUBACK 0x87, PUBACK 0x87`, async context => {
      await checkCase(await brokerWith(context, source, entry.rules), 5, entry, NOT_AUTHORIZED)
    })
  }
}

const DENY_CASE = CASES.find(entry => entry.name.startsWith('user + topic deny'))!

for (const source of ['acl-file', 'yaml acl'] as const) {
  test(`[MQTT-3.8.4-7] MQTT 5, ${source}, subscribe-denied-reason unspecified: a refused filter gets SUBACK 0x80, a refused PUBLISH still PUBACK 0x87`, async context => {
    await checkCase(await brokerWith(context, source, DENY_CASE.rules, 'unspecified'), 5, DENY_CASE, UNSPECIFIED_ERROR)
  })
}

test('[MQTT-3.8.4-5] MQTT 3.1.1, subscribe-denied-reason not-authorized: v3 clients still get 0x80, the only failure code they have', async context => {
  await checkCase(await brokerWith(context, 'yaml acl', DENY_CASE.rules, 'not-authorized'), 4, DENY_CASE, UNSPECIFIED_ERROR)
})

test('the CLI refuses a subscribe-denied-reason it does not know, naming the option and the values allowed (exit code 2)', async () => {
  const result = await runCli(['--port', '0', '--subscribe-denied-reason', '0x80'])
  assert.is(result.code, 2, `${result.stdout}${result.stderr}`)
  const message = result.stderr.trim()
  assert.is(message.split('\n').length, 1, message)
  assert.ok(message.includes('subscribe-denied-reason') && message.includes('0x80') && message.includes('not-authorized, unspecified'), message)
})

test.run()
