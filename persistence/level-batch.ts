import { releaseKey, releaseRange, retainedKey, segmentKey, sessionKey, type KeyRange } from './level-keys.js'
import { ClientSegments, encodeSegment, type SegmentEntry } from './level-segments.js'
import { encodeRelease, encodeRetained, encodeSession } from './record-encoding.js'
import { StoreError, type StoreOperation } from './store.js'

export type LevelWrite =
  | { readonly type: 'put', readonly key: string, readonly value: Buffer }
  | { readonly type: 'del', readonly key: string }

/** Lists the keys a range holds now. */
export type KeyLister = (range: KeyRange) => Promise<readonly string[]>

/** Every client's segments, as the store keeps track of them (level-segments.ts). */
export type SegmentIndex = Map<string, ClientSegments>

/** What one batch writes for one client's messages: its next segment. */
interface PendingSegment {
  readonly entries: Map<number, SegmentEntry>
  readonly tombstones: Set<number>
}

/**
 * Translates store operations into one LevelDB batch, which LevelDB writes atomically and in
 * order. Everything that can fail (encoding, an unknown operation, reading keys) fails here,
 * before anything is written, so a refused batch changes nothing on disk; `segments` is
 * updated as if the batch were written, so the store rebuilds it if the write then fails.
 *
 * Session messages become one segment per client (level-segments.ts). A message both written
 * and forgotten within the batch leaves no trace; one forgotten that an older segment holds
 * gets a tombstone; a new state of a message already on disk is written without its message.
 *
 * `session.delete` must remove the client's release ids, but a LevelDB batch can only delete
 * keys it names, and `db.clear()` is a separate, non-atomic write. So those keys are listed
 * first and deleted one by one inside the batch; that stays atomic with the rest as long as
 * nothing writes between the listing and the batch, which the store guarantees by running its
 * writes one at a time. Its segments the index names.
 */
export async function toLevelBatch (operations: readonly StoreOperation[], listKeys: KeyLister, segments: SegmentIndex): Promise<LevelWrite[]> {
  const writes: LevelWrite[] = []
  const put = (key: string, value: Buffer): void => { writes.push({ type: 'put', key, value }) }
  const del = (key: string): void => { writes.push({ type: 'del', key }) }
  const pending = new Map<string, PendingSegment>()
  const segmentsOf = (clientId: string): ClientSegments => {
    let client = segments.get(clientId)
    if (client === undefined) segments.set(clientId, client = new ClientSegments())
    return client
  }
  const pendingOf = (clientId: string): PendingSegment => {
    let segment = pending.get(clientId)
    if (segment === undefined) pending.set(clientId, segment = { entries: new Map(), tombstones: new Set() })
    return segment
  }
  for (const operation of operations) {
    switch (operation.type) {
      case 'retained.put': put(retainedKey(operation.message.topic), encodeRetained(operation.message)); break
      case 'retained.delete': del(retainedKey(operation.topic)); break
      case 'session.put': put(sessionKey(operation.session.clientId), encodeSession(operation.session)); break
      case 'session.message.put': {
        const segment = pendingOf(operation.record.clientId)
        segment.entries.set(operation.record.seq, { kind: 'record', record: operation.record })
        segment.tombstones.delete(operation.record.seq)
        break
      }
      case 'session.message.state': {
        const { clientId, seq, packetId, state } = operation
        const segment = pendingOf(clientId)
        const pendingEntry = segment.entries.get(seq)
        if (pendingEntry?.kind === 'record') {
          // Written in this batch anyway: the record carries its new state.
          segment.entries.set(seq, { kind: 'record', record: { ...pendingEntry.record, packetId, state } })
        } else if (pendingEntry !== undefined || segments.get(clientId)?.holds(seq) === true) {
          segment.entries.set(seq, { kind: 'state', seq, packetId, state })
        }
        break
      }
      case 'session.message.delete': {
        const segment = pendingOf(operation.clientId)
        segment.entries.delete(operation.seq)
        if (segments.get(operation.clientId)?.holds(operation.seq) === true) segment.tombstones.add(operation.seq)
        break
      }
      case 'session.release.put': put(releaseKey(operation.clientId, operation.packetId), encodeRelease()); break
      case 'session.release.delete': del(releaseKey(operation.clientId, operation.packetId)); break
      case 'session.delete': {
        const { clientId } = operation
        pending.delete(clientId)
        del(sessionKey(clientId))
        const client = segments.get(clientId)
        for (const number of client?.all() ?? []) del(segmentKey(clientId, number))
        client?.clear()
        const range = releaseRange(clientId)
        // Release ids put earlier in this batch are not on disk yet: deleted by name.
        for (const write of [...writes]) if (write.type === 'put' && write.key.startsWith(range.gte)) del(write.key)
        for (const key of await listKeys(range)) del(key)
        break
      }
      default: {
        const unknown: never = operation
        throw new StoreError(`unknown store operation ${JSON.stringify(unknown)}: this is a broker bug, please report it`)
      }
    }
  }
  for (const [clientId, segment] of pending) {
    const client = segmentsOf(clientId)
    const entries = [...segment.entries.values()]
    const tombstones = [...segment.tombstones]
    const records: number[] = []
    const states: number[] = []
    for (const entry of entries) {
      if (entry.kind === 'record') records.push(entry.record.seq)
      else states.push(entry.seq)
    }
    const number = client.written(records, states, tombstones)
    if (number !== undefined) put(segmentKey(clientId, number), encodeSegment(entries, tombstones))
    for (const released of client.releasable()) del(segmentKey(clientId, released))
  }
  return writes
}
