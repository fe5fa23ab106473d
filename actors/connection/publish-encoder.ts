import mqttPacket, { type IPublishPacket } from 'mqtt-packet'
import type { Delivery } from '../session/delivery.js'
import type { ProtocolCapabilities } from './protocol/protocol-version.js'

/**
 * Encodes outbound PUBLISH packets, the one packet on the hot path. MQTT 3.1/3.1.1 packets are
 * written by hand (no intermediate object); v5 packets carry properties and go through
 * mqtt-packet. A QoS 0 packet is the same bytes for every subscriber of a protocol family,
 * so the last one encoded per family is kept and shared by the whole fan-out.
 */
export class PublishEncoder {
  private lastV3: { delivery: Delivery | undefined, bytes: Buffer | undefined } = { delivery: undefined, bytes: undefined }

  encode (protocol: ProtocolCapabilities, delivery: Delivery, packetId: number | undefined, dup: boolean): Buffer {
    if (protocol.reasonCodes) return encodeV5(delivery, packetId, dup)
    if (packetId !== undefined) return encodeV3(delivery, packetId, dup)
    const last = this.lastV3
    if (last.bytes !== undefined && last.delivery !== undefined && sameQos0Bytes(last.delivery, delivery)) return last.bytes
    const bytes = encodeV3(delivery, undefined, false)
    last.delivery = delivery
    last.bytes = bytes
    return bytes
  }
}

/** One encoder for the whole process: fan-out runs to completion, so sharing the cache is safe. */
export const publishEncoder = new PublishEncoder()

function sameQos0Bytes (a: Delivery, b: Delivery): boolean {
  return a.message === b.message && a.retain === b.retain && b.qos === 0 && a.qos === 0
}

function encodeV3 (delivery: Delivery, packetId: number | undefined, dup: boolean): Buffer {
  const { message, qos, retain } = delivery
  const topicLength = Buffer.byteLength(message.topic)
  const remaining = 2 + topicLength + (qos > 0 ? 2 : 0) + message.payload.length
  const lengthBytes = varIntSize(remaining)
  const buffer = Buffer.allocUnsafe(1 + lengthBytes + remaining)
  buffer[0] = 0x30 | (dup ? 0x08 : 0) | (qos << 1) | (retain ? 0x01 : 0)
  let offset = writeVarInt(buffer, 1, remaining)
  buffer.writeUInt16BE(topicLength, offset)
  offset += 2
  offset += buffer.write(message.topic, offset, 'utf8')
  if (qos > 0) {
    buffer.writeUInt16BE(packetId!, offset)
    offset += 2
  }
  message.payload.copy(buffer, offset)
  return buffer
}

function encodeV5 (delivery: Delivery, packetId: number | undefined, dup: boolean): Buffer {
  const { message, qos, retain, subscriptionIds } = delivery
  const properties: NonNullable<IPublishPacket['properties']> = { ...message.properties }
  if (subscriptionIds !== undefined && subscriptionIds.length > 0) {
    properties.subscriptionIdentifier = subscriptionIds.length === 1 ? subscriptionIds[0]! : [...subscriptionIds]
  }
  const packet: IPublishPacket = {
    cmd: 'publish',
    topic: message.topic,
    payload: message.payload,
    qos,
    retain,
    dup,
    properties
  }
  if (packetId !== undefined) packet.messageId = packetId
  return mqttPacket.generate(packet, { protocolVersion: 5 })
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
