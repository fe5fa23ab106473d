import { mkdtemp, readdir, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { pino } from 'pino'
import { LevelStore } from '../persistence/level-store.js'
import { Broker } from '../runtime/broker.js'
import { loadConfig } from '../runtime/config/load-config.js'
import type { StoreOperation } from '../persistence/store.js'

/**
 * What a restart costs with a full LevelDB store: fills one in a temp dir (retained messages
 * with 100-byte payloads on realistic topics; sessions with 3 subscriptions and 5 queued
 * messages each), closes it, then times open() + load() on a fresh store instance, three
 * times, and prints one line with the median, every run, and the database size on disk.
 * The first run also replays LevelDB's log left by the fill, as after a crash.
 * Run: npm run bench:store-startup [-- --retained 100000 --sessions 10000]
 */
const { values } = parseArgs({ options: { retained: { type: 'string', default: '100000' }, sessions: { type: 'string', default: '10000' }, runs: { type: 'string', default: '3' } } })
const RETAINED = Number(values.retained)
const SESSIONS = Number(values.sessions)
const RUNS = Number(values.runs)
const SUBSCRIPTIONS_PER_SESSION = 3
const MESSAGES_PER_SESSION = 5
const PAYLOAD_BYTES = 100
const OPERATIONS_PER_BATCH = 1000

const payload = (seed: number): Buffer => Buffer.alloc(PAYLOAD_BYTES, `{"v":${seed % 997},"unit":"C","ts":1700000000}`)
const retainedTopic = (n: number): string => `site/${n % 40}/building/${n % 7}/floor/${n % 12}/sensor/${n.toString(36).padStart(5, '0')}/temperature`
const clientId = (n: number): string => `device-${n.toString().padStart(6, '0')}`

function * fill (): Generator<StoreOperation> {
  for (let n = 0; n < RETAINED; n++) {
    yield { type: 'retained.put', message: { topic: retainedTopic(n), payload: payload(n), qos: 1, retain: true, receivedAt: 1700000000000 + n } }
  }
  for (let n = 0; n < SESSIONS; n++) {
    const id = clientId(n)
    yield {
      type: 'session.put',
      session: {
        clientId: id,
        subscriptions: [
          { filter: `cmd/${id}/#`, qos: 1, noLocal: false, retainAsPublished: false, retainHandling: 0 },
          { filter: `site/${n % 40}/+/alerts`, qos: 2, noLocal: true, retainAsPublished: false, retainHandling: 1, subscriptionId: n + 1 },
          { filter: '$share/workers/jobs/#', qos: 1, noLocal: false, retainAsPublished: true, retainHandling: 2 }
        ],
        expiryInterval: 86400,
        // A day from now: a past deadline would make the broker end (and delete) every session at start.
        expiresAt: Date.now() + 86_400_000
      }
    }
    for (let seq = 1; seq <= MESSAGES_PER_SESSION; seq++) {
      yield {
        type: 'session.message.put',
        record: {
          clientId: id,
          seq,
          message: { topic: `cmd/${id}/reboot`, payload: payload(seq), qos: 1, retain: false, origin: 'controller', receivedAt: 1700000000000 + seq },
          qos: 1,
          retain: false,
          // The first one was sent and waits for its PUBACK, as at a crash.
          ...(seq === 1 ? { packetId: seq, state: 'awaitingPuback' as const } : {})
        }
      }
    }
  }
}

async function sizeOnDisk (directory: string): Promise<number> {
  let bytes = 0
  for (const name of await readdir(directory)) bytes += (await stat(join(directory, name))).size
  return bytes
}

const median = (numbers: readonly number[]): number => [...numbers].sort((a, b) => a - b)[Math.floor(numbers.length / 2)]!

const temp = await mkdtemp(join(tmpdir(), 'troupe-store-startup-'))
const directory = join(temp, 'data')
try {
  const fillStarted = performance.now()
  const writer = new LevelStore({ directory, durability: 'os' })
  await writer.open()
  let batch: StoreOperation[] = []
  for (const operation of fill()) {
    batch.push(operation)
    if (batch.length === OPERATIONS_PER_BATCH) {
      await writer.apply(batch)
      batch = []
    }
  }
  await writer.apply(batch)
  await writer.close()
  const fillSeconds = (performance.now() - fillStarted) / 1000

  const runs: Array<{ open: number, load: number }> = []
  for (let run = 0; run < RUNS; run++) {
    const store = new LevelStore({ directory, durability: 'fsync' })
    const started = performance.now()
    await store.open()
    const opened = performance.now()
    const contents = await store.load()
    const loaded = performance.now()
    await store.close()
    const messages = contents.sessions.reduce((sum, session) => sum + session.messages.length, 0)
    if (contents.retained.length !== RETAINED || contents.sessions.length !== SESSIONS || messages !== SESSIONS * MESSAGES_PER_SESSION) {
      throw new Error(`load returned ${contents.retained.length} retained, ${contents.sessions.length} sessions, ${messages} messages: not what was written`)
    }
    runs.push({ open: opened - started, load: loaded - opened })
  }
  // The whole broker start on that directory: store, router index, sessions, retained, listener.
  const brokerStarts: number[] = []
  for (let run = 0; run < RUNS; run++) {
    const started = performance.now()
    const broker = await Broker.start({
      config: { ...loadConfig({}).config, host: '127.0.0.1', port: 0, storage: 'level', dataDir: directory, durability: 'os' },
      log: pino({ level: 'silent' })
    })
    brokerStarts.push(performance.now() - started)
    if (broker.sessions.size !== SESSIONS) throw new Error(`the broker restored ${broker.sessions.size} sessions, not ${SESSIONS}`)
    await broker.close()
  }
  const totals = runs.map(run => run.open + run.load)
  const middle = runs[totals.indexOf(median(totals))]!
  const megabytes = (await sizeOnDisk(directory)) / 1024 / 1024
  console.log(`store startup: ${RETAINED} retained, ${SESSIONS} sessions (${SESSIONS * SUBSCRIPTIONS_PER_SESSION} subscriptions, ${SESSIONS * MESSAGES_PER_SESSION} messages): ` +
    `open+load median ${median(totals).toFixed(0)} ms (open ${middle.open.toFixed(0)} ms, load ${middle.load.toFixed(0)} ms; runs ${totals.map(t => t.toFixed(0)).join('/')} ms); ` +
    `database ${megabytes.toFixed(1)} MB on disk; filled in ${fillSeconds.toFixed(1)} s`)
  console.log(`broker start on it (restore and listen): median ${median(brokerStarts).toFixed(0)} ms (runs ${brokerStarts.map(t => t.toFixed(0)).join('/')} ms)`)
} finally {
  await rm(temp, { recursive: true, force: true })
}
