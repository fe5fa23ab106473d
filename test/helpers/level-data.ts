import { execFile } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { ALL_MESSAGES, ALL_RELEASES, ALL_SESSIONS, parseSegmentKey, parseReleaseKey, clientIdOfSessionKey, type KeyRange } from '../../persistence/level-keys.js'
import { closeLevelDatabase, openLevelDatabase } from '../../persistence/level-open.js'
import { LevelStore } from '../../persistence/level-store.js'
import type { StoreContents, StoredSession } from '../../persistence/store.js'
import { suite, type Test } from 'uvu'
import { closeAllClients } from './mqtt-clients.js'
import { killAll, startCliBroker, type CliBroker } from './processes.js'
import { RawClient } from './raw-client.js'
import { startBroker, type TestBroker } from './test-broker.js'

/**
 * Data directories of `--storage level` for tests, and ways to look at what a stopped broker
 * left in one: through the store's own `load()`, as a restarting broker reads it, and key by
 * key, which also shows what `load()` skips (messages of a session that has no record).
 */

/**
 * A suite whose every test gets a fresh data directory (`context.dir`), and after which every
 * client, broker and process it started is stopped and the directory removed.
 */
export function levelSuite (name: string): Test<{ dir: string }> {
  const test = suite<{ dir: string }>(name)
  test.before.each(context => {
    context.dir = newDataDir()
  })
  test.after.each(async context => {
    RawClient.closeAll()
    await closeAllClients()
    await closeLevelBrokers()
    await killAll()
    removeDataDir(context.dir)
  })
  return test
}

/** A fresh, empty temp directory; remove it with `removeDataDir`. */
export function newDataDir (prefix = 'troupe-level-'): string {
  return mkdtempSync(join(tmpdir(), prefix))
}

export function removeDataDir (dir: string): void {
  rmSync(dir, { recursive: true, force: true })
}

/** What a broker starting on `dir` would read: the directory must not be in use. */
export async function loadDataDir (dir: string): Promise<StoreContents> {
  const store = new LevelStore({ directory: dir, durability: 'os' })
  await store.open()
  try {
    return await store.load()
  } finally {
    await store.close()
  }
}

/** The stored session of `clientId`, if the directory holds one. */
export function sessionIn (contents: StoreContents, clientId: string): StoredSession | undefined {
  return contents.sessions.find(session => session.clientId === clientId)
}

/** Every key of a kind, by client id: session records, session messages, release ids, orphans included. */
export interface RawKeys {
  readonly sessions: string[]
  /** Client id of each stored session message. */
  readonly messages: string[]
  /** Client id of each stored packet id awaiting PUBREL. */
  readonly releases: string[]
}

/** Lists the keys in `dir` without decoding them; the directory must not be in use. */
export async function rawKeys (dir: string): Promise<RawKeys> {
  const db = await openLevelDatabase(dir)
  try {
    const keys = async (range: KeyRange): Promise<string[]> => await db.keys({ gte: range.gte, lt: range.lt }).all()
    return {
      sessions: (await keys(ALL_SESSIONS)).map(clientIdOfSessionKey),
      messages: (await keys(ALL_MESSAGES)).map(key => parseSegmentKey(key).clientId),
      releases: (await keys(ALL_RELEASES)).map(key => parseReleaseKey(key).clientId)
    }
  } finally {
    await closeLevelDatabase(db)
  }
}

/** Bytes of every file under `dir`. */
export function directoryBytes (dir: string): number {
  let total = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    total += entry.isDirectory() ? directoryBytes(path) : statSync(path).size
  }
  return total
}

/** The built CLI on `dir` with `--storage level` and `durability` (`os` unless given). */
export async function startLevelCli (dir: string, durability: 'os' | 'fsync' = 'os'): Promise<CliBroker> {
  return await startCliBroker(['--storage', 'level', '--data-dir', dir, '--durability', durability])
}

export const urlOf = (broker: CliBroker): string => `mqtt://127.0.0.1:${broker.port}`

/** Every JSON log line of a CLI broker so far whose `msg` starts with `prefix`. */
export function logsOf (broker: CliBroker, prefix: string): Array<Record<string, unknown>> {
  return broker.logs().filter(line => typeof line.msg === 'string' && line.msg.startsWith(prefix))
}

/** In-process brokers on level stores, closed by `closeLevelBrokers` (a test's after-hook). */
const inProcess = new Set<TestBroker>()

export async function startLevelBroker (dir: string): Promise<TestBroker> {
  const broker = await startBroker({ storage: 'level', dataDir: dir, durability: 'os' })
  inProcess.add(broker)
  return broker
}

/** Closes (gracefully: pending writes are flushed) one in-process level broker. */
export async function stopLevelBroker (broker: TestBroker): Promise<void> {
  inProcess.delete(broker)
  await broker.close()
}

export async function closeLevelBrokers (): Promise<void> {
  for (const broker of [...inProcess]) await stopLevelBroker(broker).catch(() => undefined)
}

const execFileAsync = promisify(execFile)

/** True when util-linux `prlimit` is installed and can change another process's limits. */
export async function prlimitAvailable (): Promise<boolean> {
  try {
    await execFileAsync('prlimit', ['--pid', String(process.pid), '--fsize'])
    return true
  } catch {
    return false
  }
}

/**
 * Caps the size of every file process `pid` writes at `bytes` (RLIMIT_FSIZE). Node ignores
 * SIGXFSZ, so a write past the cap fails with EFBIG instead of killing the process.
 */
export async function limitFileSize (pid: number, bytes: number): Promise<void> {
  await execFileAsync('prlimit', ['--pid', String(pid), `--fsize=${bytes}`])
}
