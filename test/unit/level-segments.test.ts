import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { decodeSegment, encodeSegment, segmentSeqs, type SegmentEntry } from '../../persistence/level-segments.js'

/** A segment is what a LevelDB-backed session's messages are kept in: what is written reads back the same. */

const test = suite('level segments')

const message = (topic: string, payload: string): SegmentEntry => ({
  kind: 'record',
  record: { clientId: 'c', seq: 0, message: { topic, payload: Buffer.from(payload), qos: 1, retain: false, receivedAt: 1_795_000_000_123 }, qos: 1, retain: false }
})

const withSeq = (entry: SegmentEntry, seq: number): SegmentEntry => entry.kind === 'record' ? { kind: 'record', record: { ...entry.record, seq } } : entry

test('records, states and tombstones read back as written, seqs beyond 32 bits included', () => {
  const big = 2 ** 32 + 5
  const entries: SegmentEntry[] = [
    withSeq(message('a/b', 'one'), 1),
    withSeq({ kind: 'record', record: { clientId: 'c', seq: 0, message: { topic: 'ä/ü', payload: Buffer.alloc(0), qos: 2, retain: true, origin: 'pub', receivedAt: 5, properties: { contentType: 'text/plain' } }, qos: 2, retain: true, packetId: 7, state: 'awaitingPubrec', subscriptionIds: [3] } }, big),
    { kind: 'state', seq: Number.MAX_SAFE_INTEGER, packetId: 65535, state: 'awaitingPubcomp' }
  ]
  const value = encodeSegment(entries, [9, big + 1])
  const decoded = decodeSegment('m\0c\0' + '0', 'c', value)
  assert.equal(decoded.tombstones, [9, big + 1])
  assert.equal(decoded.entries, entries.map(entry => entry.kind === 'record' ? { kind: 'record', record: { ...entry.record, clientId: 'c' } } : entry))
  assert.equal(segmentSeqs('k', value), { records: [1, big], states: [Number.MAX_SAFE_INTEGER], tombstones: [9, big + 1] })
})

test('a seq is a big-endian u64, as segments written by earlier releases have it', () => {
  const seq = 2 ** 40 + 3
  const value = encodeSegment([{ kind: 'state', seq, packetId: 1, state: 'awaitingPuback' }], [])
  // [version][u32 entry count][u8 kind] then the seq
  assert.is(value.readBigUInt64BE(6), BigInt(seq))
})

test.run()
