import type { IPubrecPacket } from 'mqtt-packet'
import type { CloseReason } from '../close-reason.js'
import type { ConnectionLink } from '../connection-link.js'

/** PUBREC: the client has a QoS 2 delivery; answer PUBREL and wait for PUBCOMP [MQTT-4.3.3-1]. */
export function handlePubrec (link: ConnectionLink, packet: IPubrecPacket): CloseReason | undefined {
  // PUBREL also for an id the session no longer knows (it was completed before a reconnect),
  // so the client can finish its side of the flow rather than hold the id forever.
  link.session.received(packet.messageId!)
  link.send({ cmd: 'pubrel', messageId: packet.messageId! })
  return undefined
}
