import type { SegmentIndex } from './level-batch.js'
import { ALL_MESSAGES, ALL_RELEASES, ALL_RETAINED, ALL_SESSIONS, clientIdOfSessionKey, parseReleaseKey, parseSegmentKey, type KeyRange } from './level-keys.js'
import type { LevelDatabase } from './level-open.js'
import { ClientSegments, decodeSegment, segmentSeqs } from './level-segments.js'
import { checkRelease, decodeRetained, decodeSession } from './record-encoding.js'
import type { SessionMessageRecord, SessionRecord, StoreContents, StoredMessage, StoredSession } from './store.js'

// Entries per native call, and the bytes LevelDB may gather for one: large enough that reading
// 100k retained messages costs a hundred round trips to the native side instead of thousands.
const ENTRIES_PER_READ = 1000
const BYTES_PER_READ = 1024 * 1024

async function forEachEntry (db: LevelDatabase, range: KeyRange, visit: (key: string, value: Buffer) => void): Promise<void> {
  const iterator = db.iterator({ gte: range.gte, lt: range.lt, highWaterMarkBytes: BYTES_PER_READ })
  // The next chunk is read (on a libuv thread) while this one is decoded here.
  let next = iterator.nextv(ENTRIES_PER_READ)
  try {
    for (let entries = await next; entries.length > 0; entries = await next) {
      next = iterator.nextv(ENTRIES_PER_READ)
      for (const [key, value] of entries) visit(key, value)
    }
  } finally {
    // A chunk still being read when `visit` threw: let it finish (or fail) unobserved.
    await next.catch(() => undefined)
    await iterator.close()
  }
}

/**
 * Reads the whole store, one range per kind of record. Keys sort by client id and then by
 * fixed-width seq or packet id, so messages and release ids arrive already in the order
 * `load` promises. Messages and release ids of clients without a session record (written
 * ahead of a record that never came) are skipped without being decoded.
 */
export async function readContents (db: LevelDatabase): Promise<StoreContents> {
  // Two independent reads at once: while one waits for LevelDB, the other decodes. Both end
  // before load settles, so that no iterator is left running when the store is closed.
  const [retained, sessions] = await Promise.allSettled([readRetained(db), readSessions(db)])
  if (retained.status === 'rejected') throw retained.reason
  if (sessions.status === 'rejected') throw sessions.reason
  return { retained: retained.value, sessions: sessions.value }
}

async function readRetained (db: LevelDatabase): Promise<StoredMessage[]> {
  const retained: StoredMessage[] = []
  await forEachEntry(db, ALL_RETAINED, (key, value) => { retained.push(decodeRetained(key, value)) })
  return retained
}

async function readSessions (db: LevelDatabase): Promise<StoredSession[]> {
  const records = new Map<string, SessionRecord>()
  await forEachEntry(db, ALL_SESSIONS, (key, value) => {
    const clientId = clientIdOfSessionKey(key)
    records.set(clientId, decodeSession(key, clientId, value))
  })

  // Segments in order: a later entry replaces an earlier one of the same seq, a tombstone removes it.
  const held = new Map<string, Map<number, SessionMessageRecord>>()
  await forEachEntry(db, ALL_MESSAGES, (key, value) => {
    const { clientId } = parseSegmentKey(key)
    if (!records.has(clientId)) return
    const { entries, tombstones } = decodeSegment(key, clientId, value)
    let messages = held.get(clientId)
    if (messages === undefined) held.set(clientId, messages = new Map())
    for (const entry of entries) {
      if (entry.kind === 'record') {
        messages.set(entry.record.seq, entry.record)
      } else {
        const record = messages.get(entry.seq)
        if (record !== undefined) messages.set(entry.seq, { ...record, packetId: entry.packetId, state: entry.state })
      }
    }
    for (const seq of tombstones) messages.delete(seq)
  })
  const messages = new Map<string, SessionMessageRecord[]>()
  for (const [clientId, bySeq] of held) messages.set(clientId, [...bySeq.values()].sort((a, b) => a.seq - b.seq))

  const releases = new Map<string, number[]>()
  await forEachEntry(db, ALL_RELEASES, (key, value) => {
    const { clientId, number: packetId } = parseReleaseKey(key)
    if (!records.has(clientId)) return
    checkRelease(key, value)
    appendTo(releases, clientId, packetId)
  })

  const sessions: StoredSession[] = []
  for (const [clientId, record] of records) {
    sessions.push({ ...record, messages: messages.get(clientId) ?? [], awaitingRelease: releases.get(clientId) ?? [] })
  }
  return sessions
}

function appendTo<T> (lists: Map<string, T[]>, clientId: string, item: T): void {
  const list = lists.get(clientId)
  if (list === undefined) lists.set(clientId, [item])
  else list.push(item)
}

/**
 * Which segment holds the current entry of each message, for every client: built at open and
 * after a failed write from the seqs alone (records are not decoded).
 */
export async function readSegmentIndex (db: LevelDatabase): Promise<SegmentIndex> {
  const index: SegmentIndex = new Map()
  await forEachEntry(db, ALL_MESSAGES, (key, value) => {
    const { clientId, number } = parseSegmentKey(key)
    let client = index.get(clientId)
    if (client === undefined) index.set(clientId, client = new ClientSegments())
    const { records, states, tombstones } = segmentSeqs(key, value)
    client.loaded(number, records, states, tombstones)
  })
  return index
}
