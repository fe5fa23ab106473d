import { isUtf8 } from 'node:buffer'
import type { IPublishPacket } from 'mqtt-packet'

/** A PUBLISH read straight from a chunk, and where the next packet starts. */
export interface DecodedPublish {
  readonly packet: IPublishPacket
  readonly end: number
}

/**
 * The common PUBLISH, decoded without mqtt-packet's parser: the packet the broker reads most
 * often, and the one that parser makes most garbage for (a Buffer copy for every number it
 * reads through its buffer list, an array for every debug call even with debugging off: about
 * 1.2 KB per message, a third of all the broker allocates per message at 5k msgs/s).
 *
 * Only a PUBLISH that lies whole in `chunk` from `offset`, with a valid header, a topic that is
 * well-formed UTF-8 without U+0000 [MQTT-1.5.3-1][MQTT-1.5.3-2] and, in MQTT 5, no properties,
 * is decoded here; for anything else the answer is undefined and the strict parser reads the
 * bytes, with all its checks and errors. So the two never disagree about what is valid.
 * The packet has the shape mqtt-packet gives it.
 */
export function decodePublish (chunk: Buffer, offset: number, protocolVersion: number): DecodedPublish | undefined {
  const first = chunk[offset]
  if (first === undefined || first >> 4 !== 3) return undefined
  const qos = (first >> 1) & 3
  if (qos === 3) return undefined
  // Remaining Length: a variable byte integer of at most four bytes [MQTT-2.2.3].
  let length = 0
  let multiplier = 1
  let at = offset + 1
  for (let count = 0; ; count++) {
    if (count === 4 || at >= chunk.length) return undefined
    const byte = chunk[at++]!
    length += (byte & 0x7f) * multiplier
    if ((byte & 0x80) === 0) break
    multiplier *= 128
  }
  const end = at + length
  if (end > chunk.length) return undefined
  if (at + 2 > end) return undefined
  const topicLength = chunk.readUInt16BE(at)
  const topicStart = at + 2
  const topicEnd = topicStart + topicLength
  if (topicEnd > end || !isCleanUtf8(chunk, topicStart, topicEnd)) return undefined
  at = topicEnd
  let messageId: number | undefined
  if (qos > 0) {
    if (at + 2 > end) return undefined
    messageId = chunk.readUInt16BE(at)
    at += 2
  }
  if (protocolVersion === 5) {
    // Property Length 0 only: properties are the strict parser's to check.
    if (at >= end || chunk[at] !== 0) return undefined
    at++
  }
  const packet: IPublishPacket = {
    cmd: 'publish',
    retain: (first & 1) !== 0,
    qos: qos as 0 | 1 | 2,
    dup: (first & 8) !== 0,
    length,
    topic: chunk.toString('utf8', topicStart, topicEnd),
    payload: chunk.subarray(at, end)
  }
  if (messageId !== undefined) packet.messageId = messageId
  return { packet, end }
}

/** Whether bytes `start` to `end` are well-formed UTF-8 without U+0000; ASCII is checked without allocating. */
function isCleanUtf8 (chunk: Buffer, start: number, end: number): boolean {
  for (let at = start; at < end; at++) {
    const byte = chunk[at]!
    if (byte === 0) return false
    if (byte >= 0x80) {
      const bytes = chunk.subarray(start, end)
      return !bytes.includes(0) && isUtf8(bytes)
    }
  }
  return true
}
