import type { MessageProperties } from '../router/message.js'
import type { Delivery } from '../session/delivery.js'
import type { ProtocolCapabilities } from './protocol/protocol-version.js'

/** What differs per subscriber in an MQTT 5 PUBLISH besides the packet id. */
export interface V5Extras {
  /** Topic alias to send, and whether the topic name goes with it (first use) or is left empty. */
  readonly topicAlias: number | undefined
  readonly sendTopic: boolean
  /** Remaining message expiry to forward, in seconds, or undefined when the message has none. */
  readonly messageExpiry: number | undefined
}

/** Nothing subscriber-specific: the bytes can be shared across subscribers. */
export const NO_EXTRAS: V5Extras = { topicAlias: undefined, sendTopic: true, messageExpiry: undefined }

/**
 * Encodes outbound PUBLISH packets, the one packet on the hot path, by hand: no
 * intermediate packet object and no property table walk. A QoS 0 packet with nothing
 * subscriber-specific is the same bytes for every subscriber of a protocol level, so the
 * last one encoded is kept and shared by the whole fan-out.
 */
export class PublishEncoder {
  private lastDelivery: Delivery | undefined
  private lastReasonCodes = false
  private lastBytes: Buffer | undefined

  encode (protocol: ProtocolCapabilities, delivery: Delivery, packetId: number | undefined, dup: boolean, extras: V5Extras = NO_EXTRAS): Buffer {
    const shareable = packetId === undefined && extras === NO_EXTRAS && delivery.subscriptionIds === undefined
    if (shareable && this.lastBytes !== undefined && this.lastReasonCodes === protocol.reasonCodes && sameBytes(this.lastDelivery!, delivery)) {
      return this.lastBytes
    }
    const bytes = encodePublish(protocol.reasonCodes, delivery, packetId, dup, extras)
    if (shareable) {
      this.lastDelivery = delivery
      this.lastReasonCodes = protocol.reasonCodes
      this.lastBytes = bytes
    }
    return bytes
  }
}

/** One encoder for the whole process: fan-out runs to completion, so sharing the cache is safe. */
export const publishEncoder = new PublishEncoder()

function sameBytes (a: Delivery, b: Delivery): boolean {
  return a.message === b.message && a.retain === b.retain && a.qos === b.qos
}

function encodePublish (v5: boolean, delivery: Delivery, packetId: number | undefined, dup: boolean, extras: V5Extras): Buffer {
  const { message, qos, retain } = delivery
  const topic = extras.sendTopic ? message.topic : ''
  const topicLength = Buffer.byteLength(topic)
  const properties = v5 ? propertiesOf(message.properties, delivery.subscriptionIds, extras) : undefined
  const propertiesLength = properties === undefined ? 0 : properties.size
  const remaining = 2 + topicLength + (qos > 0 ? 2 : 0) + (v5 ? varIntSize(propertiesLength) + propertiesLength : 0) + message.payload.length
  const buffer = Buffer.allocUnsafe(1 + varIntSize(remaining) + remaining)
  buffer[0] = 0x30 | (dup ? 0x08 : 0) | (qos << 1) | (retain ? 0x01 : 0)
  let offset = writeVarInt(buffer, 1, remaining)
  offset = writeString(buffer, offset, topic, topicLength)
  if (qos > 0) offset = buffer.writeUInt16BE(packetId!, offset)
  if (properties !== undefined) {
    offset = writeVarInt(buffer, offset, propertiesLength)
    offset = properties.write(buffer, offset)
  }
  message.payload.copy(buffer, offset)
  return buffer
}

interface EncodedProperties {
  readonly size: number
  write (buffer: Buffer, offset: number): number
}

const NO_PROPERTIES: EncodedProperties = { size: 0, write: (_buffer, offset) => offset }

/** The v5 PUBLISH properties of one delivery: the message's own plus the subscriber-specific ones. */
function propertiesOf (properties: MessageProperties | undefined, subscriptionIds: readonly number[] | undefined, extras: V5Extras): EncodedProperties {
  if (properties === undefined && subscriptionIds === undefined && extras.topicAlias === undefined && extras.messageExpiry === undefined) return NO_PROPERTIES
  const writers: Array<(buffer: Buffer, offset: number) => number> = []
  let size = 0
  const add = (bytes: number, write: (buffer: Buffer, offset: number) => number): void => {
    size += bytes
    writers.push(write)
  }
  if (properties?.payloadFormatIndicator !== undefined) {
    const value = properties.payloadFormatIndicator ? 1 : 0
    add(2, (b, o) => b.writeUInt8(value, b.writeUInt8(0x01, o)))
  }
  if (extras.messageExpiry !== undefined) {
    const value = extras.messageExpiry
    add(5, (b, o) => b.writeUInt32BE(value, b.writeUInt8(0x02, o)))
  }
  if (properties?.contentType !== undefined) addString(add, 0x03, properties.contentType)
  if (properties?.responseTopic !== undefined) addString(add, 0x08, properties.responseTopic)
  if (properties?.correlationData !== undefined) {
    const data = properties.correlationData
    add(3 + data.length, (b, o) => { o = b.writeUInt16BE(data.length, b.writeUInt8(0x09, o)); return o + data.copy(b, o) })
  }
  for (const id of subscriptionIds ?? []) add(1 + varIntSize(id), (b, o) => writeVarInt(b, b.writeUInt8(0x0b, o), id))
  if (extras.topicAlias !== undefined) {
    const alias = extras.topicAlias
    add(3, (b, o) => b.writeUInt16BE(alias, b.writeUInt8(0x23, o)))
  }
  for (const [name, value] of properties?.userProperties ?? []) {
    const nameLength = Buffer.byteLength(name)
    const valueLength = Buffer.byteLength(value)
    add(5 + nameLength + valueLength, (b, o) => writeString(b, writeString(b, b.writeUInt8(0x26, o), name, nameLength), value, valueLength))
  }
  return {
    size,
    write: (buffer, offset) => {
      for (const write of writers) offset = write(buffer, offset)
      return offset
    }
  }
}

function addString (add: (bytes: number, write: (buffer: Buffer, offset: number) => number) => void, id: number, text: string): void {
  const length = Buffer.byteLength(text)
  add(3 + length, (b, o) => writeString(b, b.writeUInt8(id, o), text, length))
}

function writeString (buffer: Buffer, offset: number, text: string, byteLength: number): number {
  offset = buffer.writeUInt16BE(byteLength, offset)
  return offset + buffer.write(text, offset, 'utf8')
}

function varIntSize (value: number): number {
  if (value < 128) return 1
  if (value < 16384) return 2
  if (value < 2097152) return 3
  return 4
}

function writeVarInt (buffer: Buffer, offset: number, value: number): number {
  do {
    let byte = value % 128
    value = Math.floor(value / 128)
    if (value > 0) byte |= 0x80
    buffer[offset++] = byte
  } while (value > 0)
  return offset
}
