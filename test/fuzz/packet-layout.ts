import { varInt } from '../helpers/mqtt5-wire.js'
import type { ProtocolLevel } from './valid-packets.js'

/** A 5.0 property section inside a packet: where its length sits and which bytes it covers. */
export interface PropertySection {
  /** Offset of the Property Length (a variable byte integer). */
  readonly lengthAt: number
  /** First property byte, and one past the last. */
  readonly start: number
  readonly end: number
}

/**
 * Where the length fields of a well-formed packet are, so that mutations can corrupt exactly
 * those: random bit flips rarely hit a length, and lengths are where parsers go wrong.
 */
export interface PacketLayout {
  /** Offset of the first body byte (after the first byte and the Remaining Length). */
  readonly bodyStart: number
  /** Offsets of the two-byte lengths in front of strings and binary data. */
  readonly stringLengths: readonly number[]
  readonly propertySections: readonly PropertySection[]
}

/** A variable byte integer's value and how many bytes it took. */
export function readVariableInteger (bytes: Buffer, at: number): { value: number, size: number } {
  let value = 0
  let size = 0
  let byte: number
  do {
    byte = bytes[at + size] ?? 0
    value += (byte & 0x7f) * 128 ** size
    size++
  } while ((byte & 0x80) !== 0 && size < 4)
  return { value, size }
}

export function encodeVariableInteger (value: number): Buffer {
  return Buffer.from(varInt(value))
}

/** Lays out a packet that mqtt-packet generated for `level` (it trusts the bytes to be well-formed). */
export function layoutOf (packet: Buffer, level: ProtocolLevel): PacketLayout {
  const remaining = readVariableInteger(packet, 1)
  const bodyStart = 1 + remaining.size
  const end = bodyStart + remaining.value
  const stringLengths: number[] = []
  const propertySections: PropertySection[] = []
  let at = bodyStart
  const string = (): void => { stringLengths.push(at); at += 2 + packet.readUInt16BE(at) }
  const properties = (): void => {
    if (level !== 5) return
    const length = readVariableInteger(packet, at)
    propertySections.push({ lengthAt: at, start: at + length.size, end: at + length.size + length.value })
    at += length.size + length.value
  }
  const firstByte = packet[0]!
  switch (firstByte >> 4) {
    case 1: { // CONNECT
      string()
      const flags = packet[at + 1]!
      at += 4 // level, flags, keep-alive
      properties()
      string() // client id
      if ((flags & 0x04) !== 0) { properties(); string(); string() } // will properties, topic, payload
      if ((flags & 0x80) !== 0) string()
      if ((flags & 0x40) !== 0) string()
      break
    }
    case 2: at += 2; properties(); break // CONNACK
    case 3: // PUBLISH
      string()
      if ((firstByte & 0x06) !== 0) at += 2
      properties()
      break
    case 4: case 5: case 6: case 7: // PUBACK, PUBREC, PUBREL, PUBCOMP
      at += 2
      if (at < end) { at += 1; if (at < end) properties() }
      break
    case 8: at += 2; properties(); while (at < end) { string(); at += 1 } break // SUBSCRIBE
    case 9: case 11: at += 2; properties(); break // SUBACK, UNSUBACK
    case 10: at += 2; properties(); while (at < end) string(); break // UNSUBSCRIBE
    case 14: case 15: // DISCONNECT, AUTH
      if (at < end) { at += 1; if (at < end) properties() }
      break
  }
  return { bodyStart, stringLengths, propertySections }
}
