import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { formatPasswordFileLine } from '../../runtime/auth/password-file.js'
import { hashPassword } from '../../runtime/auth/password-hash.js'
import type { BrokerConfig } from '../../runtime/config/options.js'
import { startMonitorServer, type MonitorServer } from '../helpers/monitor-server.js'
import { closeAllClients, collect, connectClient, eventually } from '../helpers/mqtt-clients.js'

/**
 * The monitor's `/metrics`, as Prometheus scrapes it from a real broker that MQTT.js clients
 * use: valid text exposition, troupe_* gauges and counters that follow what the clients did,
 * prom-client's process metrics, and no login asked for /metrics or /healthz even when the
 * monitor's pages need one.
 */

interface Context {
  servers: MonitorServer[]
  dir: string
}

const test = suite<Context>('prometheus /metrics')

test.before(context => { context.dir = mkdtempSync(join(tmpdir(), 'troupe-prometheus-')) })
test.after(context => { rmSync(context.dir, { recursive: true, force: true }) })
test.before.each(context => { context.servers = [] })
test.after.each(async context => {
  await closeAllClients()
  for (const server of context.servers) await server.close().catch(() => undefined)
})

const TIMEOUT_MS = 10_000

/** A broker with its monitor, no login, so the test reaches every page; closed after the test. */
async function serve (context: Context, broker: Partial<BrokerConfig> = {}, login = false): Promise<MonitorServer> {
  const server = await startMonitorServer({ login, broker })
  context.servers.push(server)
  return server
}

interface Sample {
  readonly name: string
  readonly labels: Readonly<Record<string, string>>
  readonly value: number
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"/y
/** Go's ParseFloat, which Prometheus reads values with, takes Inf and NaN in any case (prom-client writes `Nan`). */
const VALUE = /^(?:[+-]?(?:\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|inf(?:inity)?)|nan)$/i
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped'])

/**
 * Parses Prometheus' text exposition format (version 0.0.4) strictly: every line is empty, a
 * `# HELP`/`# TYPE` comment, or `name{label="value",...} value [timestamp]`, every sample
 * belongs to a family with a TYPE, and no series appears twice. Fails the test otherwise.
 */
function parseExposition (text: string): Sample[] {
  const types = new Map<string, string>()
  const samples: Sample[] = []
  const series = new Set<string>()
  assert.ok(text.endsWith('\n'), 'the exposition ends with a line break')
  for (const line of text.slice(0, -1).split('\n')) {
    // prom-client leaves a blank line between families; the format ignores empty lines.
    if (line === '') continue
    if (line.startsWith('#')) {
      const comment = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line)
      assert.ok(comment !== null, `not a HELP or TYPE comment: ${line}`)
      assert.match(comment[2]!, METRIC_NAME, `metric name in: ${line}`)
      if (comment[1] === 'TYPE') {
        assert.ok(TYPES.has(comment[3]!), `unknown type in: ${line}`)
        types.set(comment[2]!, comment[3]!)
      }
      continue
    }
    const open = line.indexOf('{')
    const space = line.indexOf(' ')
    const nameEnd = open !== -1 && open < space ? open : space
    assert.ok(nameEnd > 0, `no metric name in: ${JSON.stringify(line)}`)
    const name = line.slice(0, nameEnd)
    assert.match(name, METRIC_NAME, `metric name in: ${line}`)
    const labels: Record<string, string> = {}
    let rest = line.slice(nameEnd)
    if (rest.startsWith('{')) {
      const close = rest.lastIndexOf('}')
      assert.ok(close > 0, `labels not closed in: ${line}`)
      const body = rest.slice(1, close)
      let at = 0
      while (at < body.length) {
        LABEL.lastIndex = at
        const label = LABEL.exec(body)
        assert.ok(label !== null, `bad label at ${at} in: ${line}`)
        labels[label[1]!] = label[2]!
        at = LABEL.lastIndex
        if (at < body.length) {
          assert.is(body[at], ',', `labels separated by commas in: ${line}`)
          at++
        }
      }
      rest = rest.slice(close + 1)
    }
    const fields = /^ (\S+)(?: (-?\d+))?$/.exec(rest)
    assert.ok(fields !== null, `no value after the name and labels in: ${line}`)
    assert.match(fields[1]!, VALUE, `value in: ${line}`)
    const family = types.has(name) ? name : name.replace(/_(bucket|sum|count)$/, '')
    assert.ok(types.has(family), `no TYPE for ${name}`)
    const key = `${name}${JSON.stringify(Object.entries(labels).sort())}`
    assert.not.ok(series.has(key), `${key} appears twice`)
    series.add(key)
    const value = fields[1]!.toLowerCase()
    samples.push({ name, labels, value: value.endsWith('inf') || value.endsWith('infinity') ? (value.startsWith('-') ? -Infinity : Infinity) : Number(value) })
  }
  return samples
}

async function scrape (server: MonitorServer): Promise<Sample[]> {
  const response = await fetch(`${server.url}metrics`)
  assert.is(response.status, 200)
  return parseExposition(await response.text())
}

/** The value of the one series `name` with `labels`; fails when there is none. */
function valueOf (samples: readonly Sample[], name: string, labels: Readonly<Record<string, string>> = {}): number {
  const sample = samples.find(candidate => candidate.name === name && Object.entries(labels).every(([key, value]) => candidate.labels[key] === value))
  assert.ok(sample !== undefined, `no ${name}${JSON.stringify(labels)} in /metrics`)
  return sample.value
}

/** Scrapes until `name{labels}` satisfies `accept`; the failure says the last value seen. */
async function metricBecomes (server: MonitorServer, name: string, labels: Readonly<Record<string, string>>, accept: (value: number) => boolean, what: string): Promise<number> {
  const deadline = Date.now() + TIMEOUT_MS
  for (;;) {
    const value = valueOf(await scrape(server), name, labels)
    if (accept(value)) return value
    if (Date.now() > deadline) throw new Error(`${name}${JSON.stringify(labels)} is ${value}, still not ${what}`)
    await new Promise(resolve => setTimeout(resolve, 50))
  }
}

/** Bytes of an MQTT 3.1.1 QoS 1 PUBLISH of `topic` and `payload` (both shorter than 100 bytes together). */
function qos1PublishBytes (topic: string, payload: string): number {
  const remaining = 2 + Buffer.byteLength(topic) + 2 + Buffer.byteLength(payload)
  assert.ok(remaining < 128, 'one byte of remaining length')
  return 2 + remaining
}

test('/metrics is Prometheus text exposition, every line of it', async context => {
  const server = await serve(context)
  const client = await connectClient(server.broker.url)
  await client.subscribeAsync('x/#', { qos: 1 })
  await client.publishAsync('x/y', 'hello', { qos: 1 })
  const response = await fetch(`${server.url}metrics`)
  assert.is(response.status, 200)
  assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/)
  const samples = parseExposition(await response.text())
  assert.ok(samples.some(sample => sample.name.startsWith('troupe_')), 'the broker\'s own metrics are there')
  assert.ok(samples.every(sample => !Number.isNaN(sample.value) || !sample.name.startsWith('troupe_')), 'no troupe_ metric is NaN')
})

test('troupe_connections is the number of clients connected', async context => {
  const server = await serve(context)
  assert.is(valueOf(await scrape(server), 'troupe_connections'), 0)
  const clients = [await connectClient(server.broker.url), await connectClient(server.broker.url), await connectClient(server.broker.url)]
  assert.is(valueOf(await scrape(server), 'troupe_connections'), 3)
  await clients[1]!.endAsync()
  await metricBecomes(server, 'troupe_connections', {}, value => value === 2, '2 after one client left')
})

test('messages and bytes counters grow by what clients published and were sent', async context => {
  const server = await serve(context, { sysInterval: 0 })
  const subscriber = await connectClient(server.broker.url)
  const received = collect(subscriber)
  await subscriber.subscribeAsync('meters/#', { qos: 1 })
  const publisher = await connectClient(server.broker.url)
  const before = await scrape(server)
  const topic = 'meters/house-7'
  const payload = 'x'.repeat(60)
  for (let i = 0; i < 5; i++) await publisher.publishAsync(topic, payload, { qos: 1 })
  await eventually(() => received.length === 5, 'the subscriber to get all five', TIMEOUT_MS)
  const after = await scrape(server)
  const delta = (name: string): number => valueOf(after, name) - valueOf(before, name)
  assert.is(delta('troupe_messages_received_total'), 5)
  assert.is(delta('troupe_messages_sent_total'), 5)
  const published = 5 * qos1PublishBytes(topic, payload)
  // The subscriber's five PUBACKs (4 bytes each) arrived too; nothing else was sent to the broker.
  assert.ok(delta('troupe_bytes_received_total') >= published, `bytes received grew by ${delta('troupe_bytes_received_total')}, at least the ${published} published`)
  assert.ok(delta('troupe_bytes_received_total') <= published + 5 * 4, `bytes received grew by ${delta('troupe_bytes_received_total')}, no more than the publishes and PUBACKs`)
  assert.ok(delta('troupe_bytes_sent_total') >= published, `bytes sent grew by ${delta('troupe_bytes_sent_total')}, at least the ${published} delivered`)
})

test('troupe_sessions{state="offline"} counts a persistent session whose client left', async context => {
  const server = await serve(context)
  const keeper = await connectClient(server.broker.url, { clientId: 'keeper', clean: false })
  await keeper.subscribeAsync('alerts/#', { qos: 1 })
  await connectClient(server.broker.url)
  let samples = await scrape(server)
  assert.is(valueOf(samples, 'troupe_sessions', { state: 'online' }), 2)
  assert.is(valueOf(samples, 'troupe_sessions', { state: 'offline' }), 0)
  await keeper.endAsync()
  await metricBecomes(server, 'troupe_sessions', { state: 'offline' }, value => value === 1, '1 once keeper left')
  samples = await scrape(server)
  assert.is(valueOf(samples, 'troupe_sessions', { state: 'online' }), 1)
  assert.is(valueOf(samples, 'troupe_connections'), 1)
})

test('troupe_messages_dropped_total{reason="queue-full"} counts what an offline session\'s full queue dropped', async context => {
  const server = await serve(context, { maxQueued: 2 })
  const slow = await connectClient(server.broker.url, { clientId: 'slow', clean: false })
  await slow.subscribeAsync('jobs/#', { qos: 1 })
  await slow.endAsync()
  await metricBecomes(server, 'troupe_sessions', { state: 'offline' }, value => value === 1, 'slow offline')
  const publisher = await connectClient(server.broker.url)
  for (let i = 0; i < 5; i++) await publisher.publishAsync('jobs/next', `job ${i}`, { qos: 1 })
  await metricBecomes(server, 'troupe_messages_dropped_total', { reason: 'queue-full' }, value => value === 3, '3: five messages, room for two')
  const samples = await scrape(server)
  assert.is(valueOf(samples, 'troupe_queued_messages'), 2)
  assert.is(valueOf(samples, 'troupe_limited_total', { limit: 'max-queued' }), 3)
  assert.is(valueOf(samples, 'troupe_messages_dropped_total', { reason: 'offline' }), 0)
})

test('[MQTT-3.1.4-2] troupe_auth_failures_total counts a wrong password, not a right one', async context => {
  const passwordFile = join(context.dir, 'mqtt.passwd')
  writeFileSync(passwordFile, `${formatPasswordFileLine('sam', await hashPassword(Buffer.from('right password'), 1000))}\n`, { mode: 0o600 })
  const server = await serve(context, { passwordFile })
  let refused: unknown
  try {
    await connectClient(server.broker.url, { username: 'sam', password: 'wrong password' })
  } catch (error) {
    refused = error
  }
  assert.ok(refused instanceof Error, 'the wrong password is refused')
  await metricBecomes(server, 'troupe_auth_failures_total', {}, value => value === 1, '1 after one wrong password')
  await connectClient(server.broker.url, { username: 'sam', password: 'right password' })
  const samples = await scrape(server)
  assert.is(valueOf(samples, 'troupe_auth_failures_total'), 1, 'a right password is no failure')
  assert.is(valueOf(samples, 'troupe_connections_refused_total'), 1)
  assert.is(valueOf(samples, 'troupe_connections_accepted_total'), 1)
})

test('prom-client\'s process metrics are there: CPU seconds and event loop lag', async context => {
  const server = await serve(context)
  const response = await fetch(`${server.url}metrics`)
  const text = await response.text()
  const samples = parseExposition(text)
  assert.match(text, /^# TYPE process_cpu_seconds_total counter$/m)
  assert.match(text, /^# TYPE nodejs_eventloop_lag_seconds gauge$/m)
  assert.ok(valueOf(samples, 'process_cpu_seconds_total') > 0, 'this process has used some CPU')
  assert.ok(valueOf(samples, 'nodejs_eventloop_lag_seconds') >= 0)
  assert.ok(valueOf(samples, 'process_resident_memory_bytes') > 0)
})

test('troupe_store_batch_seconds times the store\'s batches: a retained message\'s write is one more', async context => {
  const server = await serve(context, { sysInterval: 0 })
  const before = valueOf(await scrape(server), 'troupe_store_batch_seconds_count')
  const client = await connectClient(server.broker.url)
  await client.publishAsync('store/timed', 'kept', { qos: 1, retain: true })
  const count = await metricBecomes(server, 'troupe_store_batch_seconds_count', {}, value => value > before, 'a batch more')
  const samples = await scrape(server)
  assert.is(valueOf(samples, 'troupe_store_batch_seconds_bucket', { le: '+Inf' }), count, 'every batch is in the +Inf bucket')
  assert.ok(valueOf(samples, 'troupe_store_batch_seconds_sum') >= 0)
})

test('/metrics and /healthz need no login when the monitor\'s pages do', async context => {
  const server = await serve(context, {}, true)
  const home = await fetch(server.url, { redirect: 'manual' })
  assert.is(home.status, 303, 'the dashboard asks for a login')
  assert.match(home.headers.get('location') ?? '', /^\/login/)
  const connections = await fetch(`${server.url}connections`, { redirect: 'manual' })
  assert.is(connections.status, 303, 'so do the other pages')
  const metrics = await fetch(`${server.url}metrics`, { redirect: 'manual' })
  assert.is(metrics.status, 200)
  const samples = parseExposition(await metrics.text())
  assert.is(valueOf(samples, 'troupe_connections'), 0)
  const health = await fetch(`${server.url}healthz`, { redirect: 'manual' })
  assert.is(health.status, 200)
  assert.is(await health.text(), 'ok')
})

test.run()
