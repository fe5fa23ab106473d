import type { IUnsubscribePacket } from 'mqtt-packet'
import { closeReason, type CloseReason } from '../close-reason.js'
import type { ConnectionLink } from '../connection-link.js'
import { ReasonCode } from '../protocol/reason-codes.js'

/** UNSUBSCRIBE: drop each filter and answer UNSUBACK, even for filters that had no subscription [MQTT-3.10.4-5]. */
export function handleUnsubscribe (link: ConnectionLink, packet: IUnsubscribePacket): CloseReason | undefined {
  if (!packet.messageId) return closeReason('protocol-error', 'UNSUBSCRIBE with packet id 0 [MQTT-2.3.1-1]')
  if (packet.unsubscriptions.length === 0) return closeReason('protocol-error', 'UNSUBSCRIBE with no topic filter [MQTT-3.10.3-2]')
  const { session, broker } = link
  const reasonCodes: number[] = []
  for (const filter of packet.unsubscriptions) {
    const existed = session.subscriptions.delete(filter)
    if (existed) {
      broker.router.unsubscribe(session, filter)
      // Messages of a shared subscription this member has not started go to the others.
      broker.router.redistribute(session.takeShared(filter, false))
    }
    reasonCodes.push(existed ? ReasonCode.Success : ReasonCode.NoSubscriptionExisted)
  }
  if (session.persistent) broker.saveSession(session.clientId)
  // v3 UNSUBACK has no payload; the encoder writes `granted` (the reason codes) for v5 only.
  link.acknowledge({ cmd: 'unsuback', messageId: packet.messageId, granted: reasonCodes })
  return undefined
}
