import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { loadDataDir, newDataDir, removeDataDir } from '../helpers/level-data.js'
import { closeAllClients, collect, connectClient, eventually, quietFor } from '../helpers/mqtt-clients.js'
import { killAll, run, spawnTracked, type TrackedProcess } from '../helpers/processes.js'
import { startBroker, type TestBroker } from '../helpers/test-broker.js'

/**
 * The broker's numbers under `$SYS/broker/...`, with Mosquitto's topic names, retained and
 * refreshed every sys-interval seconds, read the way operators read Mosquitto's: with
 * mosquitto_sub (and MQTT.js). `$SYS` is the broker's own: wildcards from the root do not see
 * it, it can be turned off, and it is never written to the store.
 */

interface Context {
  brokers: TestBroker[]
  dirs: string[]
}

const test = suite<Context>('$SYS topics')

test.before.each(context => {
  context.brokers = []
  context.dirs = []
})
test.after.each(async context => {
  await killAll()
  await closeAllClients()
  for (const broker of context.brokers) await broker.close().catch(() => undefined)
  for (const dir of context.dirs) removeDataDir(dir)
})

const TIMEOUT_MS = 10_000

async function brokerWith (context: Context, overrides: Parameters<typeof startBroker>[0]): Promise<TestBroker> {
  const broker = await startBroker(overrides)
  context.brokers.push(broker)
  return broker
}

interface SysMessage {
  readonly retain: boolean
  readonly topic: string
  readonly payload: string
}

const FORMAT = 'MSG|%r|%t|%p'

/**
 * mosquitto_sub on `filters`, printing each message as one line; -d prints its SUBACK, which
 * `subscribed` waits for. stdbuf -oL: its stdout is a pipe, which libc would block-buffer.
 */
async function subscriber (broker: TestBroker, filters: readonly string[]): Promise<TrackedProcess> {
  const sub = spawnTracked('stdbuf', ['-oL', 'mosquitto_sub', '-h', '127.0.0.1', '-p', String(broker.port), '-V', 'mqttv311', '-d', '-F', FORMAT, ...filters.flatMap(filter => ['-t', filter])])
  await sub.waitForLine(line => line.startsWith('Subscribed (mid:'), TIMEOUT_MS)
  return sub
}

function messagesOf (sub: TrackedProcess): SysMessage[] {
  return sub.lines.filter(line => line.startsWith('MSG|')).map(line => {
    const [, retain, topic, ...payload] = line.split('|')
    return { retain: retain === '1', topic: topic!, payload: payload.join('|') }
  })
}

/** The first message (from the `from`th on) on `topic` that `accept` takes. */
async function messageOn (sub: TrackedProcess, topic: string, accept: (message: SysMessage) => boolean = () => true, from = 0): Promise<SysMessage> {
  return await sub.waitFor(() => messagesOf(sub).slice(from).find(message => message.topic === topic && accept(message)), `a message on ${topic}`, TIMEOUT_MS)
}

/** How many messages the subscriber printed so far: a mark to wait for later ones from. */
const mark = (sub: TrackedProcess): number => messagesOf(sub).length

async function mosquittoPub (broker: TestBroker, args: readonly string[], input?: string): Promise<void> {
  const result = await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(broker.port), ...args], { timeoutMs: TIMEOUT_MS, ...(input === undefined ? {} : { input }) })
  assert.is(result.code, 0, `mosquitto_pub ${args.join(' ')} failed:\n${result.stdout}${result.stderr}`)
}

test('[MQTT-3.3.1-6] [MQTT-3.3.1-8] a new $SYS/# subscriber gets the version and uptime at once, retained', async context => {
  const broker = await brokerWith(context, { sysInterval: 1 })
  const sub = await subscriber(broker, ['$SYS/#'])
  const version = await messageOn(sub, '$SYS/broker/version')
  const uptime = await messageOn(sub, '$SYS/broker/uptime')
  // RETAIN=1 only on what the new subscription got from the retained store, not on the next round.
  assert.ok(version.retain, 'the version came from the retained store')
  assert.ok(uptime.retain, 'the uptime came from the retained store')
  assert.match(version.payload, /^troupe version \S+$/)
  assert.match(uptime.payload, /^\d+ seconds$/)
})

test('[MQTT-3.3.1-9] the values are published again every sys-interval, to subscribers already there, without RETAIN', async context => {
  const broker = await brokerWith(context, { sysInterval: 1 })
  const sub = await subscriber(broker, ['$SYS/broker/uptime'])
  const first = await messageOn(sub, '$SYS/broker/uptime', message => !message.retain)
  const later = await messageOn(sub, '$SYS/broker/uptime', message => !message.retain && message.payload !== first.payload)
  assert.ok(Number.parseInt(later.payload) > Number.parseInt(first.payload), `uptime went from "${first.payload}" to "${later.payload}"`)
})

test('$SYS/broker/clients/connected reports the clients connected at the next interval', async context => {
  const broker = await brokerWith(context, { sysInterval: 1 })
  const sub = await subscriber(broker, ['$SYS/broker/clients/connected'])
  const clients = [await connectClient(broker.url), await connectClient(broker.url), await connectClient(broker.url)]
  await messageOn(sub, '$SYS/broker/clients/connected', message => message.payload === '4')
  assert.is(broker.broker.connections.size, 4, 'mosquitto_sub and three MQTT.js clients')
  const from = mark(sub)
  await clients[0]!.endAsync()
  await clients[1]!.endAsync()
  await eventually(() => broker.broker.connections.size === 2, 'two connections left', TIMEOUT_MS)
  // Values between the two ends may come first; the count settles at 2.
  await messageOn(sub, '$SYS/broker/clients/connected', message => message.payload === '2', from)
})

test('$SYS/broker/messages/received and load/messages/received/1min grow with what clients publish', async context => {
  const broker = await brokerWith(context, { sysInterval: 1 })
  const received = '$SYS/broker/messages/received'
  const load = '$SYS/broker/load/messages/received/1min'
  const sub = await subscriber(broker, [received, load])
  assert.is((await messageOn(sub, received)).payload, '0', 'nothing published yet')
  assert.is((await messageOn(sub, load)).payload, '0.00', 'nothing published yet')
  // Five from mosquitto_pub (one per line of stdin), three from MQTT.js.
  await mosquittoPub(broker, ['-t', 'readings/a', '-q', '1', '-l'], 'one\ntwo\nthree\nfour\nfive\n')
  const client = await connectClient(broker.url)
  for (let i = 0; i < 3; i++) await client.publishAsync('readings/b', `reading ${i}`, { qos: 1 })
  const total = await messageOn(sub, received, message => Number(message.payload) >= 8)
  assert.is(total.payload, '8', 'exactly the eight messages clients published ($SYS itself is not counted)')
  const perMinute = await messageOn(sub, load, message => Number(message.payload) > 0)
  assert.ok(Number(perMinute.payload) > 0, `load/messages/received/1min is ${perMinute.payload}`)
})

test('[MQTT-4.7.2-1] subscribers to # and +/... get no $SYS message, while $SYS/# does', async context => {
  const broker = await brokerWith(context, { sysInterval: 1 })
  const everything = await subscriber(broker, ['#'])
  const client = await connectClient(broker.url)
  const received = collect(client)
  await client.subscribeAsync(['#', '+/broker/#', '+/broker/version'], { qos: 0 })
  const watcher = await subscriber(broker, ['$SYS/broker/uptime'])
  // Two rounds published while the wildcard subscribers listened.
  const first = await messageOn(watcher, '$SYS/broker/uptime', message => !message.retain)
  await messageOn(watcher, '$SYS/broker/uptime', message => !message.retain && message.payload !== first.payload)
  // The wildcard subscribers do get ordinary topics.
  await mosquittoPub(broker, ['-t', 'plain/topic', '-m', 'hello'])
  await messageOn(everything, 'plain/topic')
  await eventually(() => received.some(message => message.topic === 'plain/topic'), 'MQTT.js to get plain/topic', TIMEOUT_MS)
  assert.equal(messagesOf(everything).filter(message => message.topic.startsWith('$')), [], 'mosquitto_sub on # saw no $ topic')
  assert.equal(received.filter(message => message.topic.startsWith('$')).map(message => message.topic), [], 'MQTT.js on #, +/broker/# and +/broker/version saw no $ topic')
})

test('sys-interval 0: nothing is published under $SYS', async context => {
  const broker = await brokerWith(context, { sysInterval: 0 })
  const sub = await subscriber(broker, ['$SYS/#', 'check/#'])
  const client = await connectClient(broker.url)
  const sys = collect(client)
  await client.subscribeAsync('$SYS/#')
  await mosquittoPub(broker, ['-t', 'check/alive', '-m', 'yes'])
  await messageOn(sub, 'check/alive')
  // With sys-interval 1 two rounds would have come by now.
  await quietFor(2500)
  assert.equal(messagesOf(sub).map(message => message.topic), ['check/alive'], 'mosquitto_sub got only the check message')
  assert.equal(sys, [], 'MQTT.js on $SYS/# got nothing')
})

test('with LevelDB storage no $SYS message is stored, and a client\'s one retained message counts as 1', async context => {
  const dir = newDataDir('troupe-sys-')
  context.dirs.push(dir)
  const broker = await brokerWith(context, { storage: 'level', dataDir: dir, durability: 'os', sysInterval: 1 })
  const client = await connectClient(broker.url)
  await client.publishAsync('sensors/temperature', '21.5', { qos: 1, retain: true })
  const count = '$SYS/broker/retained messages/count'
  const sub = await subscriber(broker, [count])
  // A round after the client's message: $SYS has replaced its retained values at least twice by now.
  await messageOn(sub, count, message => !message.retain && message.payload === '1')
  assert.is(broker.broker.router.retainedCount, 1, 'the router counts the client\'s message only, not the $SYS ones')
  await client.endAsync()
  await broker.close()

  const stored = await loadDataDir(dir)
  assert.equal(stored.retained.map(message => message.topic), ['sensors/temperature'], 'the database holds the client\'s retained message and no $SYS one')

  // A broker that publishes no $SYS of its own finds none in the database either.
  const restarted = await brokerWith(context, { storage: 'level', dataDir: dir, durability: 'os', sysInterval: 0 })
  const after = await subscriber(restarted, ['$SYS/#', 'sensors/#'])
  const restored = await messageOn(after, 'sensors/temperature')
  assert.is(restored.payload, '21.5')
  await quietFor(500)
  assert.equal(messagesOf(after).map(message => message.topic), ['sensors/temperature'])
  assert.is(restarted.broker.router.retainedCount, 1)
})

test.run()
