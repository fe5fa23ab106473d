import type { IAuthPacket } from 'mqtt-packet'
import { closeReason, type CloseReason } from '../close-reason.js'
import type { ConnectionLink } from '../connection-link.js'
import { ReasonCode } from '../protocol/reason-codes.js'

/**
 * AUTH from a connected MQTT 5 client: 0x19 starts a re-authentication, 0x18 answers the
 * broker's challenge in one. Anything else is a protocol error [MQTT-3.15.2-1 (v5)].
 */
export function handleAuth (link: ConnectionLink, packet: IAuthPacket): CloseReason | undefined {
  switch (packet.reasonCode) {
    case ReasonCode.ReAuthenticate: return link.reauthenticate(packet)
    case ReasonCode.ContinueAuthentication:
      link.receiveAuth(packet)
      return undefined
    default: return closeReason('protocol-error', `AUTH with reason code ${String(packet.reasonCode)} from a client`)
  }
}
