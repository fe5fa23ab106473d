import mqttPacket, { type IDisconnectPacket } from 'mqtt-packet'
import type { CloseReason } from './close-reason.js'

/**
 * The DISCONNECT the broker sends an MQTT 5 client when it ends the connection itself: the
 * reason code, and the reason in words unless that would make the packet larger than the
 * client's Maximum Packet Size; then the Reason String is left out [MQTT-3.14.2-3 (v5)], as the
 * broker never sends a client a packet larger than it accepts [MQTT-3.1.2-24 (v5)].
 */
export function serverDisconnectFor (reason: CloseReason, clientMaximumPacketSize: number | undefined): IDisconnectPacket {
  const explained: IDisconnectPacket = { cmd: 'disconnect', reasonCode: reason.reasonCode, properties: { reasonString: reason.detail } }
  if (clientMaximumPacketSize === undefined) return explained
  // Only on the way out, so encoding once more to measure costs nothing that matters.
  const size = mqttPacket.generate(explained, { protocolVersion: 5 }).length
  return size <= clientMaximumPacketSize ? explained : { cmd: 'disconnect', reasonCode: reason.reasonCode }
}
