import type { IPubackPacket, IPubcompPacket, IPubrecPacket, IPubrelPacket } from 'mqtt-packet'
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
