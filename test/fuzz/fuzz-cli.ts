import { parseArgs } from 'node:util'
import { closeAllClients } from '../helpers/mqtt-clients.js'
import { assertStillServing } from '../helpers/still-serving.js'
import { startBroker } from '../helpers/test-broker.js'
import { BrokerLogTally } from './broker-log-tally.js'
import { settledHeapUsed } from './forced-gc.js'
import { fuzz } from './fuzz-run.js'

/**
 * npm run fuzz -- --packets 1000000 [--seed N] [--connections N]
 *
 * Fuzzes an in-process broker over TCP, then checks that it still routes a QoS 1 message
 * between two fresh clients and that its heap came back to about where it started.
 * Exits 1 when either check fails.
 */

/** Heap may end this much above where it started: the broker legitimately keeps retained messages, sessions and warmed-up code. */
const HEAP_MARGIN_BYTES = 64 * 1024 * 1024

const { values } = parseArgs({
  options: {
    packets: { type: 'string', default: '1000000' },
    seed: { type: 'string', default: '1' },
    connections: { type: 'string', default: '50' },
    'linger-ms': { type: 'string', default: '300' }
  }
})
const packets = wholeNumber('packets', values.packets)
const seed = wholeNumber('seed', values.seed)
const connections = wholeNumber('connections', values.connections)
const lingerMs = wholeNumber('linger-ms', values['linger-ms'])

// A short connect timeout, so sockets that never finish their CONNECT do not pile up.
const broker = await startBroker({ connectTimeout: 1 })
const tally = new BrokerLogTally()
const absorbLogs = setInterval(() => tally.absorb(broker.logs), 1000)
const heapBefore = await settledHeapUsed()
console.log(`fuzzing the broker on port ${broker.port}: ${packets} packets, seed ${seed}, ${connections} connections at a time`)

const report = await fuzz({
  port: broker.port,
  packets,
  seed,
  connections,
  lingerMs,
  onProgress: progress => console.log(`  ${progress.packetsSent} packets, ${progress.connectionsOpened} connections, ${progress.seconds.toFixed(0)} s`)
})

const failures: string[] = []
try {
  await assertStillServing(broker)
} catch (error) {
  failures.push(`the broker no longer routes a QoS 1 message: ${(error as Error).message}`)
}
await closeAllClients()
const lingering = await connectionsSettle(broker.broker.connections, 5000)
if (lingering > 0) failures.push(`${lingering} connections still open in the broker after every client left`)
clearInterval(absorbLogs)
tally.absorb(broker.logs)
if (tally.errorCount > 0) failures.push(`the broker logged ${tally.errorCount} errors`)
const heapAfter = await settledHeapUsed()
if (heapAfter > heapBefore + HEAP_MARGIN_BYTES) failures.push(`heap grew from ${mb(heapBefore)} to ${mb(heapAfter)}, more than ${mb(HEAP_MARGIN_BYTES)}`)

console.log(`packets sent:      ${report.packetsSent} (${mb(report.bytesSent)})`)
console.log(`connections:       ${report.connectionsOpened} (${report.closedByBroker} closed by the broker, ${report.timedOut} still open after ${lingerMs} ms, ${report.connectFailures} failed to connect)`)
console.log(`close reasons:     ${JSON.stringify(tally.closeReasons)}`)
console.log(`broker errors:     ${tally.errorCount}${tally.errors.map(line => `\n  ${JSON.stringify(line)}`).join('')}`)
console.log(`time:              ${report.seconds.toFixed(1)} s (${Math.round(report.packetsSent / report.seconds)} packets/s)`)
console.log(`heap before/after: ${mb(heapBefore)} / ${mb(heapAfter)}`)
await broker.close()
if (failures.length > 0) {
  for (const failure of failures) console.log(`FAIL: ${failure}`)
  process.exit(1)
}
console.log('ok: the broker still serves and its heap came back')

/** How many connections are left once the broker has had up to `timeoutMs` to finish closing them. */
async function connectionsSettle (open: ReadonlySet<unknown>, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs
  while (open.size > 0 && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 50))
  return open.size
}

function wholeNumber (name: string, raw: string): number {
  const value = Number(raw)
  if (!Number.isSafeInteger(value) || value < 0) {
    console.error(`--${name} must be a whole number, not ${raw}`)
    process.exit(2)
  }
  return value
}

function mb (bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`
}
