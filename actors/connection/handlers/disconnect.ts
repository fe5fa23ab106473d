import type { IDisconnectPacket } from 'mqtt-packet'
import { closeReason, type CloseReason } from '../close-reason.js'
import type { ConnectionLink } from '../connection-link.js'
import { ReasonCode } from '../protocol/reason-codes.js'

/**
 * DISCONNECT: the client leaves cleanly, so its will is discarded [MQTT-3.14.4-3], unless a
 * v5 client asks for it with reason 0x04 or reports an error (0x80 and up): only a normal
 * disconnection (0x00) deletes the will [MQTT-3.1.2-8 (v5)]. A v5 client may also change its
 * session expiry here, but not from 0 to more [MQTT-3.14.2-2 (v5)].
 */
export function handleDisconnect (link: ConnectionLink, packet: IDisconnectPacket): CloseReason {
  const expiry = packet.properties?.sessionExpiryInterval
  if (link.protocol.reasonCodes && expiry !== undefined) {
    if (link.connect.sessionExpiry === 0 && expiry > 0) {
      return closeReason('protocol-error', 'DISCONNECT sets a Session Expiry Interval after CONNECT set none [MQTT-3.14.2-2]')
    }
    link.session.expiryInterval = Math.min(expiry, link.broker.settings.maxSessionExpiry)
  }
  const reasonCode = packet.reasonCode ?? ReasonCode.NormalDisconnection
  if (link.protocol.reasonCodes && reasonCode !== ReasonCode.NormalDisconnection) {
    return closeReason('client-disconnect-with-will', reasonCode === ReasonCode.DisconnectWithWill
      ? 'client sent DISCONNECT asking for its will'
      : `client sent DISCONNECT with error 0x${reasonCode.toString(16)}`)
  }
  return closeReason('client-disconnect', 'client sent DISCONNECT')
}
