import type { IPubrelPacket } from 'mqtt-packet'
import type { CloseReason } from '../close-reason.js'
import type { ConnectionLink } from '../connection-link.js'
import { acknowledgement } from '../protocol/acknowledgement.js'
import { ReasonCode } from '../protocol/reason-codes.js'

/** PUBREL: the client releases a QoS 2 message; forget its id and answer PUBCOMP [MQTT-4.3.3-2]. */
export function handlePubrel (link: ConnectionLink, packet: IPubrelPacket): CloseReason | undefined {
  const known = link.session.releaseInbound(packet.messageId!)
  // After the id's removal is durable: a restart must not find it waiting and swallow a new message that reuses it.
  link.acknowledge(acknowledgement(link.protocol, 'pubcomp', packet.messageId!, known ? ReasonCode.Success : ReasonCode.PacketIdentifierNotFound))
  return undefined
}
