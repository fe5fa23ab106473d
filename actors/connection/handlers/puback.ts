import type { IPubackPacket } from 'mqtt-packet'
import type { CloseReason } from '../close-reason.js'
import type { ConnectionLink } from '../connection-link.js'

/** PUBACK: a QoS 1 delivery is done; its slot in the inflight window frees up [MQTT-4.3.2-1]. */
export function handlePuback (link: ConnectionLink, packet: IPubackPacket): CloseReason | undefined {
  // An unknown id is a late duplicate after a resend; there is nothing left to release.
  link.session.acknowledge(packet.messageId!)
  return undefined
}
