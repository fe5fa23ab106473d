import type { IConnackPacket } from 'mqtt-packet'
import type { ConnectionSettings } from '../broker-services.js'
import type { AcceptedConnect } from './connect.js'

/**
 * The CONNACK for an accepted CONNECT. MQTT 5 clients also learn what the broker supports
 * and what it changed of their request [MQTT-3.2.2-*]: an assigned client id, a lowered
 * keep-alive or session expiry, and the broker's own limits.
 */
export function connackFor (connect: AcceptedConnect, sessionPresent: boolean, settings: ConnectionSettings, authenticationData?: Buffer): IConnackPacket {
  // MQTT 3.1 has a reserved byte where 3.1.1 put the session present flag.
  const packet: IConnackPacket = { cmd: 'connack', sessionPresent: sessionPresent && connect.protocol.sessionPresentFlag, returnCode: 0, reasonCode: 0 }
  if (!connect.protocol.reasonCodes) return packet
  const properties: NonNullable<IConnackPacket['properties']> = {
    receiveMaximum: settings.receiveMaximum,
    topicAliasMaximum: settings.maxTopicAlias,
    maximumPacketSize: settings.maxPacketSize,
    wildcardSubscriptionAvailable: true,
    subscriptionIdentifiersAvailable: true,
    sharedSubscriptionAvailable: true,
    retainAvailable: true
  }
  if (connect.clientIdAssigned) properties.assignedClientIdentifier = connect.clientId
  if (connect.keepAliveChanged) properties.serverKeepAlive = connect.keepAlive
  if (connect.sessionExpiryLowered) properties.sessionExpiryInterval = connect.sessionExpiry
  // Enhanced authentication ends with the method's last word [MQTT-4.12.0-? (v5)].
  if (connect.authenticationMethod !== undefined) properties.authenticationMethod = connect.authenticationMethod
  if (authenticationData !== undefined) properties.authenticationData = authenticationData
  if (connect.requestResponseInformation) properties.responseInformation = `response/${connect.clientId}`
  packet.properties = properties
  return packet
}

/**
 * The four bytes of an MQTT 3.1 or 3.1.1 CONNACK, written here rather than by mqtt-packet's
 * generic encoder, whose path is long for one packet per connection: connect-rate profiles
 * showed it. Undefined for MQTT 5, whose CONNACK carries properties: mqtt-packet encodes it.
 */
export function encodeV3Connack (packet: IConnackPacket, protocolLevel: number): Buffer | undefined {
  if (protocolLevel >= 5 || packet.properties !== undefined) return undefined
  return Buffer.from([0x20, 0x02, packet.sessionPresent ? 1 : 0, packet.returnCode ?? 0])
}
