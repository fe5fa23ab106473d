import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { BrokerLogTally } from '../fuzz/broker-log-tally.js'
import { settledHeapUsed } from '../fuzz/forced-gc.js'
import { fuzz, type FuzzReport } from '../fuzz/fuzz-run.js'
import { closeAllClients, eventually } from '../helpers/mqtt-clients.js'
import { killAll, run, spawnTracked } from '../helpers/processes.js'
import { assertStillServing } from '../helpers/still-serving.js'
import { startBroker, type LogLine, type TestBroker } from '../helpers/test-broker.js'

/**
 * 300,000 hostile packets (random bytes, and valid packets of every type for MQTT 3.1, 3.1.1
 * and 5.0, broken in every way test/fuzz/mutations.ts knows) from many connections at once,
 * over TCP, with a fixed seed: afterwards the broker still serves MQTT.js and Mosquitto's
 * clients, holds no connection, and its heap came back. `npm run fuzz` runs the same for longer.
 */

const SEED = 20251124
const PACKETS = 300_000
// Generous: the broker keeps what it rightly should (retained messages and persistent sessions
// from the fuzz's small pools of topics and client ids) and V8 keeps compiled code.
const HEAP_GROWTH_LIMIT = 48 * 1024 * 1024
const MOSQUITTO_TIMEOUT_MS = 10_000

const test = suite<{ broker: TestBroker }>('fuzz')

test.before(async context => { context.broker = await startBroker({ connectTimeout: 1 }) })
test.after(async context => {
  await killAll()
  await closeAllClients()
  await context.broker.close()
})

test(`${PACKETS} fuzzed packets over many connections: the broker keeps serving, leaks no connection, and its heap comes back`, async ({ broker }) => {
  const tally = new BrokerLogTally()
  // Counted as they come, so that the log kept in memory does not count as heap growth.
  const absorbLogs = setInterval(() => tally.absorb(broker.logs), 500)
  const heapBefore = await settledHeapUsed()
  let report: FuzzReport
  try {
    report = await fuzz({ port: broker.port, packets: PACKETS, seed: SEED, connections: 50 })
  } finally {
    clearInterval(absorbLogs)
  }
  tally.absorb(broker.logs)
  const summary = `${report.packetsSent} packets over ${report.connectionsOpened} connections in ${report.seconds.toFixed(1)} s; close reasons ${JSON.stringify(tally.closeReasons)}`
  assert.is(report.packetsSent, PACKETS, summary)
  assert.is(report.connectFailures, 0, `every connection was accepted: ${summary}`)
  assert.ok(report.connectionsOpened > 1000, `many connections: ${summary}`)
  for (const reason of ['malformed-packet', 'protocol-error', 'client-disconnect', 'socket-closed']) {
    assert.ok((tally.closeReasons[reason] ?? 0) > 0, `some connections ended with ${reason}: ${summary}`)
  }
  assert.is(tally.errorCount, 0, `the broker logged no error, but logged: ${tally.errors.map(describeError).join('; ')}`)

  // Every fuzz socket is closed by now: the broker must have let go of all of them.
  await eventually(() => broker.broker.connections.size === 0, `no connection left open (${broker.broker.connections.size} are)`, 5000)

  await assertStillServing(broker)
  await assertMosquittoQos0RoundTrip(broker)
  await closeAllClients()
  await eventually(() => broker.broker.connections.size === 0, 'the checking clients to be gone', 5000)

  tally.absorb(broker.logs)
  const heapAfter = await settledHeapUsed()
  const grown = heapAfter - heapBefore
  console.log(`  fuzz: ${summary}; heap ${mb(heapBefore)} -> ${mb(heapAfter)}`)
  assert.ok(grown < HEAP_GROWTH_LIMIT, `heap grew by ${mb(grown)} (${mb(heapBefore)} -> ${mb(heapAfter)}), limit ${mb(HEAP_GROWTH_LIMIT)}`)
})

/** A QoS 0 message from mosquitto_pub to mosquitto_sub through the broker. */
async function assertMosquittoQos0RoundTrip (broker: TestBroker): Promise<void> {
  const endpoint = ['-h', '127.0.0.1', '-p', String(broker.port)]
  // -d prints the SUBACK, so publishing waits for the subscription instead of sleeping; stdbuf
  // makes the piped stdout line-buffered so each line arrives as it is printed.
  const subscriber = spawnTracked('stdbuf', ['-oL', '/usr/bin/mosquitto_sub', ...endpoint, '-d', '-q', '0', '-t', 'after-fuzz/mosquitto', '-C', '1', '-F', 'MSG|%t|%p'])
  await subscriber.waitForLine(line => line.startsWith('Subscribed (mid:'), MOSQUITTO_TIMEOUT_MS)
  const published = await run('/usr/bin/mosquitto_pub', [...endpoint, '-q', '0', '-t', 'after-fuzz/mosquitto', '-m', 'still serving'], { timeoutMs: MOSQUITTO_TIMEOUT_MS })
  assert.is(published.code, 0, `mosquitto_pub failed: ${published.stdout}${published.stderr}`)
  await subscriber.waitForLine(line => line === 'MSG|after-fuzz/mosquitto|still serving', MOSQUITTO_TIMEOUT_MS)
  assert.is((await subscriber.waitForExit(MOSQUITTO_TIMEOUT_MS)).code, 0, subscriber.output())
}

function describeError (line: LogLine): string {
  const error = line.err as { message?: string, stack?: string } | undefined
  // The stack's first frames name the code that threw, which is what a reader needs.
  return `${line.msg}: ${error?.stack?.split('\n').slice(0, 4).join(' <- ') ?? error?.message ?? ''}`
}

function mb (bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`
}

test.run()
