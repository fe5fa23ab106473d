import { execFile } from 'node:child_process'
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { ClassicLevel } from 'classic-level'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { retainedKey, segmentKey, sessionKey, SCHEMA_KEY } from '../../persistence/level-keys.js'
import { rawKeys } from '../helpers/level-data.js'
import { LevelStore, type LevelDurability } from '../../persistence/level-store.js'
import { SCHEMA_VERSION } from '../../persistence/level-schema.js'
import { RECORD_FORMAT_VERSION } from '../../persistence/record-envelope.js'
import { encodeRetained, encodeSchema, encodeSession } from '../../persistence/record-encoding.js'
import { StoreError, type StoreOperation } from '../../persistence/store.js'
import { storeContract, type StoreFactory } from './store-contract.js'

const run = promisify(execFile)

const newTempDir = (): Promise<string> => mkdtemp(join(tmpdir(), 'troupe-level-'))

/** A fresh temp dir per test; the store's directory is a child that does not exist yet, so open() must create it. */
function levelFactory (durability: LevelDurability): StoreFactory {
  let temp: string | undefined
  let directory = ''
  return {
    create: async () => {
      temp = await newTempDir()
      directory = join(temp, 'data')
      return new LevelStore({ directory, durability })
    },
    reopen: async () => new LevelStore({ directory, durability }),
    cleanup: async () => {
      if (temp !== undefined) await rm(temp, { recursive: true, force: true })
      temp = undefined
    }
  }
}

storeContract('level, fsync', levelFactory('fsync'))
storeContract('level, os', levelFactory('os'))

const retained = (topic: string): StoreOperation => ({
  type: 'retained.put',
  message: { topic, payload: Buffer.from('x'), qos: 0, retain: true, receivedAt: 1 }
})

async function failure (attempt: Promise<unknown>): Promise<Error> {
  try {
    await attempt
  } catch (error) {
    return error as Error
  }
  throw new Error('expected a failure')
}

/** Writes raw values next to what a LevelStore wrote, as a damaged or foreign database would hold them. */
async function writeRaw (directory: string, entries: ReadonlyArray<readonly [string, Buffer]>): Promise<void> {
  const db = new ClassicLevel<string, Buffer>(directory, { keyEncoding: 'utf8', valueEncoding: 'buffer' })
  await db.open()
  await db.batch(entries.map(([key, value]) => ({ type: 'put' as const, key, value })))
  await db.close()
}

const test = suite<{ temp: string, stores: LevelStore[] }>('level store')

test.before.each(async context => {
  context.temp = await newTempDir()
  context.stores = []
})
test.after.each(async context => {
  for (const store of context.stores) await store.close().catch(() => undefined)
  await chmod(context.temp, 0o700).catch(() => undefined)
  await rm(context.temp, { recursive: true, force: true })
})

function storeIn (context: { stores: LevelStore[] }, directory: string, durability: LevelDurability = 'fsync'): LevelStore {
  const store = new LevelStore({ directory, durability })
  context.stores.push(store)
  return store
}

test('is durable and names itself level', context => {
  const store = storeIn(context, join(context.temp, 'data'))
  assert.is(store.kind, 'level')
  assert.is(store.durable, true)
})

test('a second store on the same directory is refused while the first is open, in this process and in another', async context => {
  const directory = join(context.temp, 'data')
  const first = storeIn(context, directory)
  await first.open()
  const expected = `another broker is using ${directory}; stop it or choose another --data-dir`

  const second = storeIn(context, directory)
  const error = await failure(second.open())
  assert.instance(error, StoreError)
  assert.is(error.message, expected)

  // The real lock: LevelDB's fcntl lock on data/LOCK, held against another process.
  const script = fileURLToPath(new URL('./open-level-store-process.ts', import.meta.url))
  const other = async (): Promise<{ opened: boolean, name?: string, message?: string }> =>
    JSON.parse((await run(process.execPath, ['--import', 'tsx', script, directory])).stdout)
  assert.equal(await other(), { opened: false, name: 'StoreError', message: expected })

  await first.close()
  assert.equal(await other(), { opened: true }, 'the lock goes with the first store')
})

test('a data directory that cannot be written is refused with a clear error', async context => {
  // chmod does not stop root (CI runs tests as root), so there the permission case cannot be
  // produced; a path that is a regular file fails for everyone, root included, and is checked always.
  const file = join(context.temp, 'a-file')
  await writeFile(file, 'not a directory')
  for (const directory of [file, join(file, 'data')]) {
    const error = await failure(storeIn(context, directory).open())
    assert.instance(error, StoreError)
    assert.match(error.message, `the data directory ${directory} is not a directory`)
    assert.match(error.message, /choose a directory for --data-dir/)
  }

  if (process.getuid?.() !== 0) {
    const readOnly = join(context.temp, 'read-only')
    await mkdir(readOnly)
    await chmod(readOnly, 0o500)
    const error = await failure(storeIn(context, readOnly).open())
    assert.instance(error, StoreError)
    assert.match(error.message, `cannot write to the data directory ${readOnly} (EACCES)`)
    assert.match(error.message, /give the broker's user write access/)
  }
})

test('a database with a newer schema version is refused, and left as it is', async context => {
  const directory = join(context.temp, 'data')
  const store = storeIn(context, directory)
  await store.open()
  await store.apply([retained('kept')])
  await store.close()
  await writeRaw(directory, [[SCHEMA_KEY, encodeSchema(SCHEMA_VERSION + 1)]])

  const error = await failure(storeIn(context, directory).open())
  assert.instance(error, StoreError)
  assert.match(error.message, `has schema version ${SCHEMA_VERSION + 1}, but this Troupe release reads only up to version ${SCHEMA_VERSION}`)
  assert.match(error.message, /run a Troupe release at least as new/)
  // Refusing released the lock: the database can be opened again (here, raw).
  await writeRaw(directory, [])
})

test('a LevelDB database Troupe did not write is refused', async context => {
  const directory = join(context.temp, 'data')
  await writeRaw(directory, [['someone-else', Buffer.from('data')]])
  const error = await failure(storeIn(context, directory).open())
  assert.instance(error, StoreError)
  assert.match(error.message, /did not write/)
})

/** A message segment (level-segments.ts) with one entry whose record bytes are `record`. */
function segmentHolding (seq: number, record: Buffer): Buffer {
  // Format 1, one entry: kind 0 (a whole record), its seq, its length, the record; no tombstones.
  return Buffer.concat([Buffer.from([1]), lengthBytes(1), Buffer.from([0]), seqBytes(seq), lengthBytes(record.length), record, lengthBytes(0)])
}

function seqBytes (seq: number): Buffer {
  const bytes = Buffer.alloc(8)
  bytes.writeBigUInt64BE(BigInt(seq))
  return bytes
}

function lengthBytes (length: number): Buffer {
  const bytes = Buffer.alloc(4)
  bytes.writeUInt32BE(length)
  return bytes
}

test('a damaged value fails open or load with a StoreError naming its key', async context => {
  const good = encodeRetained({ topic: 'bad/topic', payload: Buffer.from('payload'), qos: 1, retain: true, receivedAt: 1 })
  const withHeader = (text: string): Buffer => {
    const header = Buffer.from(text)
    return Buffer.concat([Buffer.from([RECORD_FORMAT_VERSION, 0, 0, 0, header.length]), header])
  }
  const cases: ReadonlyArray<readonly [string, Buffer, RegExp]> = [
    [retainedKey('bad/topic'), Buffer.concat([Buffer.from([99]), good.subarray(1)]),
      /^the retained message of topic "bad\/topic" .* has record format version 99, which this Troupe release does not know/],
    [retainedKey('bad/topic'), good.subarray(0, good.length - 3), /^the retained message of topic "bad\/topic" .* is damaged: it ends inside a blob/],
    [retainedKey('bad/topic'), good.subarray(0, 3), /is damaged: it ends inside its header length/],
    [sessionKey('client'), withHeader('{"schema":1}'), /^the session record of client "client" .* is damaged: header.subscriptions should be a list/],
    [segmentKey('client', 10), segmentHolding(5, withHeader('{{{')), /^message segment 10 of session "client" .* is damaged: it is not a session message of format 2/],
    [segmentKey('client', 13), segmentHolding(5, Buffer.from([2, 0x09, 0, 0, 0, 0, 0, 0, 0, 0, 0, 200])), /^message segment 13 of session "client" .* is damaged: it ends inside its topic/],
    [segmentKey('client', 11), Buffer.alloc(0), /^message segment 11 of session "client" .* is damaged: it is not a message segment/],
    [segmentKey('client', 12), segmentHolding(5, withHeader('{}')).subarray(0, 12), /^message segment 12 of session "client" .* is damaged: it ends inside entry 0/]
  ]
  for (const [index, [key, value, expected]] of cases.entries()) {
    const directory = join(context.temp, `case-${index}`)
    const store = storeIn(context, directory)
    await store.open()
    await store.close()
    // A valid record for "client" first, so that its messages are decoded rather than skipped.
    await writeRaw(directory, [[sessionKey('client'), encodeSession({ clientId: 'client', subscriptions: [] })], [key, value]])
    const reopened = storeIn(context, directory)
    // A segment's framing is read at open (for the store's index), its records at load.
    const error = await failure(reopened.open().then(async () => await reopened.load()))
    assert.instance(error, StoreError)
    assert.match(error.message, expected)
    assert.ok(error.message.includes(`(key ${JSON.stringify(key)})`), `the message names the key exactly: ${error.message}`)
    assert.match(error.message, /restore the data directory from a backup|move the directory away/)
    await reopened.close()
  }
})

test('session messages written over many batches, updated, deleted and reopened come back as a model says, and leave no segment once all are gone', async context => {
  const directory = join(context.temp, 'data')
  let store = storeIn(context, directory, 'os')
  await store.open()
  await store.apply([{ type: 'session.put', session: { clientId: 'c', subscriptions: [] } }])
  const model = new Map<number, string>()
  const message = (text: string) => ({ topic: 't', payload: Buffer.from(text), qos: 1 as const, retain: false, receivedAt: 1 })
  let random = 7
  const next = (n: number): number => { random = (random * 1103515245 + 12345) % 2147483648; return random % n }
  let seq = 0
  for (let batch = 0; batch < 60; batch++) {
    const operations: StoreOperation[] = []
    for (let i = 0; i < 1 + next(8); i++) {
      const held = [...model.keys()]
      const choice = next(3)
      if (choice === 0 || held.length === 0) {
        seq++
        model.set(seq, `m${seq}`)
        operations.push({ type: 'session.message.put', record: { clientId: 'c', seq, message: message(`m${seq}`), qos: 1, retain: false }, fresh: true })
      } else if (choice === 1 && next(2) === 0) {
        const target = held[next(held.length)]!
        model.set(target, `m${target}-sent`)
        operations.push({ type: 'session.message.put', record: { clientId: 'c', seq: target, message: message(`m${target}-sent`), qos: 1, retain: false, packetId: 1 + target % 100, state: 'awaitingPuback' } })
      } else if (choice === 1) {
        // A new state only: the message stays what it was.
        const target = held[next(held.length)]!
        const packetId = 1 + next(1000)
        model.set(target, `${model.get(target)!.split('@')[0]!}@${packetId}`)
        operations.push({ type: 'session.message.state', clientId: 'c', seq: target, packetId, state: 'awaitingPubcomp' })
      } else {
        const target = held[next(held.length)]!
        model.delete(target)
        operations.push({ type: 'session.message.delete', clientId: 'c', seq: target })
      }
    }
    await store.apply(operations)
    if (batch % 10 === 9) {
      await store.close()
      store = storeIn(context, directory, 'os')
      await store.open()
      const [session] = (await store.load()).sessions
      const seen = session!.messages.map(m => [m.seq, m.state === 'awaitingPubcomp' ? `${m.message.payload.toString()}@${m.packetId}` : m.message.payload.toString()])
      assert.equal(seen, [...model].sort((a, b) => a[0] - b[0]), `after batch ${batch}`)
    }
  }
  await store.apply([...model.keys()].map(held => ({ type: 'session.message.delete' as const, clientId: 'c', seq: held })))
  await store.close()
  assert.equal((await rawKeys(directory)).messages, [], 'no segment is left once every message is gone')
})

test('a corrupt database is reported, not repaired', async context => {
  const directory = join(context.temp, 'data')
  const store = storeIn(context, directory)
  await store.open()
  await store.apply([retained('kept')])
  await store.close()
  await writeFile(join(directory, 'CURRENT'), 'garbage')

  const error = await failure(storeIn(context, directory).open())
  assert.instance(error, StoreError)
  assert.match(error.message, `the database in ${directory} is corrupt`)
  assert.match(error.message, /does not repair it on its own/)
  assert.is(await readFile(join(directory, 'CURRENT'), 'utf8'), 'garbage', 'nothing was touched')
})

test('a batch refused before writing changes nothing and the store stays usable', async context => {
  const store = storeIn(context, join(context.temp, 'data'))
  await store.open()
  const error = await failure(store.apply([retained('before'), { type: 'session.put', session: { clientId: 'bad\u0000id', subscriptions: [] } }]))
  assert.instance(error, StoreError)
  assert.match(error.message, /U\+0000/)
  await store.apply([retained('after')])
  assert.equal((await store.load()).retained.map(m => m.topic), ['after'])
})

test('a failed write (disk full) rejects with the cause, changes nothing, and the next batch is written', async context => {
  const store = storeIn(context, join(context.temp, 'data'))
  await store.open()
  await store.apply([retained('first')])

  // LevelDB's own failure, injected where classic-level hands a batch to the native side:
  // filling a real disk needs a small mount, which tests cannot count on.
  const prototype = ClassicLevel.prototype as unknown as { _batch: (...args: unknown[]) => Promise<void> }
  const original = prototype._batch
  prototype._batch = async () => {
    throw Object.assign(new Error('IO error: /data/000005.log: No space left on device'), { code: 'LEVEL_IO_ERROR' })
  }
  let error: Error
  try {
    error = await failure(store.apply([retained('lost')]))
  } finally {
    prototype._batch = original
  }
  assert.instance(error, StoreError)
  assert.match(error.message, /the disk is full \(IO error: .*No space left on device\)/)
  assert.match(error.message, /free some space/)

  await store.apply([retained('second')])
  assert.equal((await store.load()).retained.map(m => m.topic).sort(), ['first', 'second'])
})

test('operations on a closed store fail with a clear error; an empty batch resolves at once', async context => {
  const store = storeIn(context, join(context.temp, 'data'))
  const error = await failure(store.apply([retained('x')]))
  assert.instance(error, StoreError)
  assert.match(error.message, /is not open: call open\(\) before using it/)
  await store.open()
  await store.apply([])
  await store.close()
  await store.close()
})

test.run()
