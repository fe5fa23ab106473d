import { damaged } from './record-envelope.js'
import { decodeSessionMessage, layoutSessionMessage, writeSessionMessage, type SessionMessageLayout } from './record-encoding.js'
import type { SessionMessageRecord, StoredMessageState } from './store.js'

/**
 * How the LevelDB store keeps session messages: not one key per message, but one *segment*
 * per client per batch, under `m\0<clientId>\0<segment number>`. A segment holds the message
 * records the batch wrote for that client (new messages and new states of held ones) and the
 * seqs of the messages it forgot (tombstones). Read in segment order, later entries replace
 * earlier ones for the same seq and tombstones remove them.
 *
 * Why: LevelDB costs about 2-3 us of JavaScript per key in a batch (abstract-level's checks
 * and encodings), and a QoS 1 message to a persistent subscriber takes two or three keys
 * (queued, sent, acknowledged). One key per client per batch makes a batch cost a few keys
 * however many messages it carries.
 *
 * A segment is deleted once it is the client's oldest and none of its entries is current:
 * deleting only from the front means a tombstone never disappears before the older entry it
 * hides. A message held for a very long time therefore keeps the segments after it (and their
 * dead entries) on disk until it goes; a session's traffic while one message is stuck is what
 * bounds that.
 */

/** What a segment holds of one message: its whole record, or only a new packet id and state. */
export type SegmentEntry =
  | { readonly kind: 'record', readonly record: SessionMessageRecord }
  | { readonly kind: 'state', readonly seq: number, readonly packetId: number, readonly state: StoredMessageState }


interface Segment {
  readonly number: number
  /** How many messages have their current record here (recordIn says which). */
  records: number
  /** How many messages have their current state here, their record lying in an older segment. */
  states: number
}

/** Where one client's segments stand: what each holds that is still current. */
export class ClientSegments {
  /** Oldest first. */
  private readonly alive: Segment[] = []
  /** The segment holding the current record, and the one holding the current state, of each message held. */
  private readonly recordIn = new Map<number, Segment>()
  private readonly stateIn = new Map<number, Segment>()
  private nextNumber = 0

  /** Takes note of a segment read at open, in segment order. */
  loaded (number: number, records: readonly number[], states: readonly number[], tombstones: readonly number[]): void {
    this.add(number, records, states, tombstones)
    this.nextNumber = Math.max(this.nextNumber, number + 1)
  }

  /** Takes note of a segment this batch writes, and returns its number; undefined when there is nothing to write. */
  written (records: readonly number[], states: readonly number[], tombstones: readonly number[]): number | undefined {
    if (records.length === 0 && states.length === 0 && tombstones.length === 0) return undefined
    const number = this.nextNumber++
    this.add(number, records, states, tombstones)
    return number
  }

  /** Segment numbers that can go now: a prefix of the client's segments with nothing current. */
  releasable (): number[] {
    const numbers: number[] = []
    while (this.alive.length > 0 && this.alive[0]!.records === 0 && this.alive[0]!.states === 0) {
      const segment = this.alive.shift()!
      numbers.push(segment.number)
    }
    return numbers
  }

  /** Every segment number still on disk, for a session.delete. */
  all (): number[] {
    return this.alive.map(segment => segment.number)
  }

  /** Forgets every segment (a session.delete removes them); numbers keep counting up. */
  clear (): void {
    this.alive.length = 0
    this.recordIn.clear()
    this.stateIn.clear()
  }

  /** Whether the store holds message `seq` of this client. */
  holds (seq: number): boolean {
    return this.recordIn.has(seq)
  }

  private add (number: number, records: readonly number[], states: readonly number[], tombstones: readonly number[]): void {
    const segment: Segment = { number, records: 0, states: 0 }
    this.alive.push(segment)
    for (const seq of records) {
      this.forget(seq)
      segment.records++
      this.recordIn.set(seq, segment)
    }
    for (const seq of states) {
      // A state for a message not held (read back after its tombstone) means nothing.
      if (!this.recordIn.has(seq)) continue
      const previous = this.stateIn.get(seq)
      if (previous !== undefined) previous.states--
      segment.states++
      this.stateIn.set(seq, segment)
    }
    for (const seq of tombstones) this.forget(seq)
  }

  private forget (seq: number): void {
    const recordSegment = this.recordIn.get(seq)
    // A state is only ever kept for a message whose record is held: nothing else to look up.
    if (recordSegment === undefined) return
    recordSegment.records--
    this.recordIn.delete(seq)
    const stateSegment = this.stateIn.get(seq)
    if (stateSegment === undefined) return
    stateSegment.states--
    this.stateIn.delete(seq)
  }
}

const SEGMENT_FORMAT_VERSION = 1
const SEQ_BYTES = 8
const LENGTH_BYTES = 4

const STATES: readonly StoredMessageState[] = ['awaitingPuback', 'awaitingPubrec', 'awaitingPubcomp']
const RECORD_ENTRY = 0
const STATE_ENTRY = 1

/**
 * [version][u32 entries] then per entry [u8 kind][u64 seq] and either [u32 length][record] or
 * [u16 packet id][u8 state], then [u32 tombstones]([u64 seq])*.
 */
export function encodeSegment (entries: readonly SegmentEntry[], tombstones: readonly number[]): Buffer {
  const layouts: Array<SessionMessageLayout | undefined> = new Array(entries.length)
  let size = 1 + LENGTH_BYTES + LENGTH_BYTES + tombstones.length * SEQ_BYTES
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i]!
    if (entry.kind === 'record') {
      const layout = layoutSessionMessage(entry.record)
      layouts[i] = layout
      size += 1 + SEQ_BYTES + LENGTH_BYTES + layout.size
    } else {
      size += 1 + SEQ_BYTES + 3
    }
  }
  const value = Buffer.allocUnsafe(size)
  value[0] = SEGMENT_FORMAT_VERSION
  let at = value.writeUInt32BE(entries.length, 1)
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i]!
    if (entry.kind === 'record') {
      const layout = layouts[i]!
      value[at] = RECORD_ENTRY
      at = writeSeq(value, entry.record.seq, at + 1)
      at = value.writeUInt32BE(layout.size, at)
      at = writeSessionMessage(entry.record, layout, value, at)
    } else {
      value[at] = STATE_ENTRY
      at = writeSeq(value, entry.seq, at + 1)
      at = value.writeUInt16BE(entry.packetId, at)
      value[at++] = STATES.indexOf(entry.state)
    }
  }
  at = value.writeUInt32BE(tombstones.length, at)
  for (const seq of tombstones) at = writeSeq(value, seq, at)
  return value
}

/** A seq as a u64, in two u32 halves: seqs are safe integers, and BigInt costs an allocation each. */
function writeSeq (target: Buffer, seq: number, at: number): number {
  target.writeUInt32BE(Math.floor(seq / 0x1_0000_0000), at)
  return target.writeUInt32BE(seq % 0x1_0000_0000, at + 4)
}

function readSeq (source: Buffer, at: number): number {
  return source.readUInt32BE(at) * 0x1_0000_0000 + source.readUInt32BE(at + 4)
}

interface SegmentVisitor {
  record (seq: number, bytes: Buffer): void
  state (seq: number, packetId: number, state: StoredMessageState): void
}

/** Walks a segment's entries and returns its tombstones; a value it cannot read throws a StoreError naming the key. */
function walkSegment (key: string, value: Buffer, visit: SegmentVisitor): number[] {
  if (value.length === 0 || value[0] !== SEGMENT_FORMAT_VERSION) throw damaged(key, `it is not a message segment of format ${SEGMENT_FORMAT_VERSION}`)
  let at = 1
  const need = (bytes: number, what: string): void => {
    if (at + bytes > value.length) throw damaged(key, `it ends inside ${what}`)
  }
  need(LENGTH_BYTES, 'its entry count')
  const entryCount = value.readUInt32BE(at)
  at += LENGTH_BYTES
  for (let i = 0; i < entryCount; i++) {
    need(1 + SEQ_BYTES, `entry ${i}`)
    const kind = value[at]
    const seq = readSeq(value, at + 1)
    at += 1 + SEQ_BYTES
    if (kind === RECORD_ENTRY) {
      need(LENGTH_BYTES, `entry ${i}`)
      const length = value.readUInt32BE(at)
      at += LENGTH_BYTES
      need(length, `entry ${i}`)
      visit.record(seq, value.subarray(at, at + length))
      at += length
    } else if (kind === STATE_ENTRY) {
      need(3, `entry ${i}`)
      const state = STATES[value[at + 2]!]
      if (state === undefined) throw damaged(key, `entry ${i} has an unknown state ${value[at + 2]}`)
      visit.state(seq, value.readUInt16BE(at), state)
      at += 3
    } else {
      throw damaged(key, `entry ${i} is of an unknown kind ${String(kind)}`)
    }
  }
  need(LENGTH_BYTES, 'its tombstone count')
  const tombstoneCount = value.readUInt32BE(at)
  at += LENGTH_BYTES
  need(tombstoneCount * SEQ_BYTES, 'its tombstones')
  const tombstones: number[] = []
  for (let i = 0; i < tombstoneCount; i++, at += SEQ_BYTES) tombstones.push(readSeq(value, at))
  if (at !== value.length) throw damaged(key, `it has ${value.length - at} bytes after its last tombstone`)
  return tombstones
}

export interface DecodedSegment {
  readonly entries: readonly SegmentEntry[]
  readonly tombstones: readonly number[]
}

/** A segment with its message records decoded. */
export function decodeSegment (key: string, clientId: string, value: Buffer): DecodedSegment {
  const entries: SegmentEntry[] = []
  const tombstones = walkSegment(key, value, {
    record: (seq, bytes) => entries.push({ kind: 'record', record: decodeSessionMessage(key, clientId, seq, bytes) }),
    state: (seq, packetId, state) => entries.push({ kind: 'state', seq, packetId, state })
  })
  return { entries, tombstones }
}

/** The seqs of a segment's records, states and tombstones, without decoding a record: for the store's index at open. */
export function segmentSeqs (key: string, value: Buffer): { records: number[], states: number[], tombstones: number[] } {
  const records: number[] = []
  const states: number[] = []
  const tombstones = walkSegment(key, value, { record: seq => records.push(seq), state: seq => states.push(seq) })
  return { records, states, tombstones }
}
