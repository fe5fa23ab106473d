import type { IPubcompPacket } from 'mqtt-packet'
import type { CloseReason } from '../close-reason.js'
import type { ConnectionLink } from '../connection-link.js'

/** PUBCOMP: a QoS 2 delivery is complete; its slot in the inflight window frees up. */
export function handlePubcomp (link: ConnectionLink, packet: IPubcompPacket): CloseReason | undefined {
  link.session.complete(packet.messageId!)
  return undefined
}
