import { encodeVariableInteger, layoutOf, readVariableInteger, type PacketLayout } from './packet-layout.js'
import type { SeededRandom } from './seeded-random.js'
import type { ProtocolLevel } from './valid-packets.js'

export type MutationKind =
  | 'bit-flips'
  | 'byte-insertion'
  | 'byte-deletion'
  | 'truncation'
  | 'missing-fields'
  | 'remaining-length'
  | 'string-length'
  | 'property-length'
  | 'duplicated-properties'

export const MUTATION_KINDS: readonly MutationKind[] = [
  'bit-flips', 'byte-insertion', 'byte-deletion', 'truncation', 'missing-fields',
  'remaining-length', 'string-length', 'property-length', 'duplicated-properties'
]

/** Remaining Length values a parser is most likely to mishandle: zero, the limits, one past them. */
const SUSPICIOUS_LENGTHS = [0, 1, 127, 128, 16383, 16384, 2097151, 2097152, 268435455]

/**
 * One packet broken in one way. A mutation that needs a part the packet lacks (a string, a
 * property section) falls back to bit flips, so every call changes something.
 */
export function mutate (random: SeededRandom, packet: Buffer, level: ProtocolLevel, kind: MutationKind = random.pick(MUTATION_KINDS)): Buffer {
  const layout = layoutOf(packet, level)
  switch (kind) {
    case 'bit-flips': return flipBits(random, packet)
    case 'byte-insertion': {
      const at = random.below(packet.length + 1)
      return Buffer.concat([packet.subarray(0, at), random.bytes(random.between(1, 8)), packet.subarray(at)])
    }
    case 'byte-deletion': {
      const at = random.below(packet.length)
      return Buffer.concat([packet.subarray(0, at), packet.subarray(at + random.between(1, 8))])
    }
    // The cut-off rest is not sent: the next packet's bytes then complete this one.
    case 'truncation': return packet.subarray(0, random.below(packet.length))
    case 'missing-fields': {
      // Cut between two fields and re-frame: a complete packet whose last fields are absent
      // (an UNSUBSCRIBE without filters, a PUBLISH without its properties).
      const boundaries = [
        layout.bodyStart,
        ...layout.stringLengths,
        ...layout.propertySections.flatMap(section => [section.lengthAt, section.end])
      ].filter(at => at < packet.length)
      return frame(packet[0]!, packet.subarray(layout.bodyStart, random.pick(boundaries)))
    }
    case 'remaining-length': return withRemainingLength(random, packet, layout)
    case 'string-length': {
      if (layout.stringLengths.length === 0) return flipBits(random, packet)
      const copy = Buffer.from(packet)
      const at = random.pick(layout.stringLengths)
      const actual = copy.readUInt16BE(at)
      copy.writeUInt16BE(random.pick([0, 0xffff, actual + 1, Math.max(actual - 1, 0), random.below(0x10000)]) & 0xffff, at)
      return copy
    }
    case 'property-length': {
      if (layout.propertySections.length === 0) return flipBits(random, packet)
      const section = random.pick(layout.propertySections)
      const actual = section.end - section.start
      const claimed = random.pick([0, actual + 1, Math.max(actual - 1, 0), 268435455, random.below(300)])
      // Either the packet is re-framed around the new length (only the property length lies),
      // or the Remaining Length is left as it was and disagrees as well.
      const lengthBytes = random.chance(0.2) ? Buffer.from([0xff, 0xff, 0xff, 0xff, 0x01]) : encodeVariableInteger(claimed)
      const body = Buffer.concat([packet.subarray(layout.bodyStart, section.lengthAt), lengthBytes, packet.subarray(section.start)])
      return random.chance(0.7) ? frame(packet[0]!, body) : Buffer.concat([packet.subarray(0, layout.bodyStart), body])
    }
    case 'duplicated-properties': {
      const section = layout.propertySections.find(candidate => candidate.end > candidate.start)
      if (section === undefined) return flipBits(random, packet)
      // Every property twice: a protocol error for all but User Property and Subscription Identifier.
      const properties = packet.subarray(section.start, section.end)
      const body = Buffer.concat([
        packet.subarray(layout.bodyStart, section.lengthAt),
        encodeVariableInteger(properties.length * 2), properties, properties,
        packet.subarray(section.end)
      ])
      return frame(packet[0]!, body)
    }
  }
}

function flipBits (random: SeededRandom, packet: Buffer): Buffer {
  const copy = Buffer.from(packet)
  if (copy.length === 0) return copy
  for (let flips = random.between(1, 4); flips > 0; flips--) copy[random.below(copy.length)]! ^= 1 << random.below(8)
  return copy
}

function withRemainingLength (random: SeededRandom, packet: Buffer, layout: PacketLayout): Buffer {
  const actual = readVariableInteger(packet, 1).value
  const body = packet.subarray(layout.bodyStart)
  const header = random.pick<() => Buffer>([
    () => encodeVariableInteger(random.pick([...SUSPICIOUS_LENGTHS, actual + 1, Math.max(actual - 1, 0), actual * 2])),
    // Five bytes, each saying "more follows": no valid encoding is that long.
    () => Buffer.from([0xff, 0xff, 0xff, 0xff, 0x7f]),
    // A non-minimal encoding of the right value (allowed by 3.1.1's parser, forbidden by 5.0).
    () => Buffer.concat([encodeVariableInteger(actual).map((byte, index, all) => index === all.length - 1 ? byte | 0x80 : byte), Buffer.from([0])])
  ])()
  return Buffer.concat([packet.subarray(0, 1), header, body])
}

/** A whole packet: first byte, Remaining Length, body. */
function frame (firstByte: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([firstByte]), encodeVariableInteger(body.length), body])
}
