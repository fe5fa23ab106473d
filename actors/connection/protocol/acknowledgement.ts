import type { IPubackPacket, IPubcompPacket, IPubrecPacket, IPubrelPacket, Packet } from 'mqtt-packet'
import type { ProtocolCapabilities } from './protocol-version.js'
import { ReasonCode } from './reason-codes.js'

export type Acknowledgement = IPubackPacket | IPubrecPacket | IPubrelPacket | IPubcompPacket

/**
 * PUBACK, PUBREC, PUBREL or PUBCOMP for `messageId`. MQTT 5 carries the reason code, and
 * Success goes out in the short form the spec allows (Remaining Length 2, no reason code
 * byte): mqtt-packet writes that form only when told the code is 0, and Paho 1.6 cannot read
 * a PUBREL with the longer one. MQTT 3.1/3.1.1 acknowledgements have no reason code.
 */
export function acknowledgement (protocol: ProtocolCapabilities, cmd: Acknowledgement['cmd'], messageId: number, reasonCode: number = ReasonCode.Success): Acknowledgement {
  return protocol.reasonCodes ? { cmd, messageId, reasonCode } : { cmd, messageId }
}

export function isAcknowledgement (packet: Packet): packet is Acknowledgement {
  return packet.cmd === 'puback' || packet.cmd === 'pubrec' || packet.cmd === 'pubrel' || packet.cmd === 'pubcomp'
}

/** First byte of each acknowledgement: its type, and for PUBREL the flags 0b0010 [MQTT-3.6.1-1]. */
const FIRST_BYTE: Readonly<Record<Acknowledgement['cmd'], number>> = { puback: 0x40, pubrec: 0x50, pubrel: 0x62, pubcomp: 0x70 }

/**
 * The bytes of an acknowledgement without properties, written here rather than by
 * mqtt-packet's generic encoder: one is sent for every QoS 1 and 2 message, and the generic
 * path costs several allocations each. Success is the short form (Remaining Length 2); another
 * MQTT 5 reason code adds its byte and a Property Length of 0, the bytes mqtt-packet writes.
 * Undefined for one with properties: mqtt-packet encodes it.
 */
export function encodeAcknowledgement (ack: Acknowledgement): Buffer | undefined {
  if (ack.properties !== undefined) return undefined
  const id = ack.messageId ?? 0
  const reasonCode = 'reasonCode' in ack ? ack.reasonCode ?? 0 : 0
  return reasonCode === 0
    ? Buffer.from([FIRST_BYTE[ack.cmd], 2, id >> 8, id & 0xff])
    : Buffer.from([FIRST_BYTE[ack.cmd], 4, id >> 8, id & 0xff, reasonCode, 0])
}
