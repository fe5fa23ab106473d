import type { IPubrecPacket } from 'mqtt-packet'
import type { CloseReason } from '../close-reason.js'
import type { ConnectionLink } from '../connection-link.js'
import { acknowledgement } from '../protocol/acknowledgement.js'
import { ReasonCode } from '../protocol/reason-codes.js'

/** PUBREC: the client has a QoS 2 delivery; answer PUBREL and wait for PUBCOMP [MQTT-4.3.3-1]. */
export function handlePubrec (link: ConnectionLink, packet: IPubrecPacket): CloseReason | undefined {
  // PUBREL also for an id the session no longer knows (it was completed before a reconnect),
  // so the client can finish its side of the flow rather than hold the id forever.
  const known = link.session.received(packet.messageId!)
  // v5 tells the client the id was not found [MQTT-3.6.2-1 (v5)]; v3 PUBREL has no reason code.
  // After the new state is durable: a restart that found the message still awaiting PUBREC would send it again.
  link.acknowledge(acknowledgement(link.protocol, 'pubrel', packet.messageId!, known ? ReasonCode.Success : ReasonCode.PacketIdentifierNotFound))
  return undefined
}
