import type { IConnectPacket, QoS } from 'mqtt-packet'
import { createMessage, type Message, type MessageProperties } from '../../router/message.js'
import { topicNameProblem } from '../../router/topic-rules.js'
import type { ConnectionSettings } from '../broker-services.js'
import { closeReason, type CloseReason } from '../close-reason.js'
import type { UserPropertyList } from '../protocol/property-rules.js'
import { capabilitiesFor, type ProtocolCapabilities } from '../protocol/protocol-version.js'
import { ReasonCode } from '../protocol/reason-codes.js'
import type { AdmissionRefusal } from '../limits/admission-refusal.js'
import type { LimitKind } from '../limits/limit-kind.js'
import { topicLimitOf } from '../limits/topic-limits.js'

/** Seconds meaning "the session never expires" [MQTT-3.1.2-11 (v5)]. */
export const NEVER_EXPIRES = 0xFFFFFFFF

/** A will and how long after the connection ends it waits before being published. */
export interface Will {
  readonly message: Message
  /** v5 Will Delay Interval, in seconds; 0 publishes it as soon as the connection ends. */
  readonly delay: number
}

/** A CONNECT the broker will go on with (authentication is still to come). */
export interface AcceptedConnect {
  readonly accepted: true
  readonly protocol: ProtocolCapabilities
  readonly clientId: string
  /** The broker chose the client id, because the client sent an empty one [MQTT-3.1.3-6]. */
  readonly clientIdAssigned: boolean
  readonly cleanStart: boolean
  /** Seconds the session outlives the connection: 0 for a clean session, NEVER_EXPIRES for a v3 persistent one. */
  readonly sessionExpiry: number
  /** The client asked for a longer session expiry than the broker allows; CONNACK says what it got. */
  readonly sessionExpiryLowered: boolean
  /** Seconds; 0 means none. */
  readonly keepAlive: number
  /** v5: the broker changed the keep-alive, so CONNACK carries Server Keep Alive. */
  readonly keepAliveChanged: boolean
  readonly will: Will | undefined
  readonly username: string | undefined
  readonly password: Buffer | undefined
  /** v5: QoS 1/2 messages the client accepts unacknowledged (Receive Maximum), 65535 by default. */
  readonly clientReceiveMaximum: number
  /** v5: largest packet the client accepts, or undefined for no limit beyond the protocol's. */
  readonly clientMaximumPacketSize: number | undefined
  /** v5: topic aliases the client accepts from the broker. */
  readonly clientTopicAliasMaximum: number
  /** v5: the client wants reason strings and user properties on acknowledgements [MQTT-3.1.2-29]. */
  readonly requestProblemInformation: boolean
  /** v5: the client asked for Response Information in CONNACK. */
  readonly requestResponseInformation: boolean
  readonly authenticationMethod: string | undefined
  readonly authenticationData: Buffer | undefined
  readonly userProperties: UserPropertyList | undefined
}

/** A CONNECT the broker refuses: with a CONNACK code when the protocol lets it answer, then closing. */
export interface RefusedConnect {
  readonly accepted: false
  readonly protocol: ProtocolCapabilities | undefined
  /** The CONNACK reason code to send before closing, or undefined to close without CONNACK. */
  readonly connackReason: number | undefined
  readonly close: CloseReason
  /** The broker's limit that refused it, when it was one rather than the protocol. */
  readonly limit?: LimitKind
}

export type ConnectVerdict = AcceptedConnect | RefusedConnect

/**
 * Checks a CONNECT against the protocol's rules and the broker's limits, as one named list of
 * steps; what the parser already enforces (reserved flag, will flags) is not repeated.
 */
export function inspectConnect (packet: IConnectPacket, settings: ConnectionSettings, assignClientId: () => string): ConnectVerdict {
  const protocol = capabilitiesFor(packet.protocolVersion)
  if (protocol === undefined) {
    return refuse(undefined, ReasonCode.UnsupportedProtocolVersion, 'connect-refused', `unsupported protocol level ${String(packet.protocolVersion)} [MQTT-3.1.2-2]`)
  }
  if (packet.protocolId !== protocol.protocolId) {
    return refuse(protocol, ReasonCode.UnsupportedProtocolVersion, 'connect-refused', `protocol name "${String(packet.protocolId)}" does not go with level ${protocol.level} [MQTT-3.1.2-1]`)
  }
  if (packet.password !== undefined && packet.username === undefined && !protocol.reasonCodes) {
    return refuse(protocol, undefined, 'protocol-error', 'password flag set without user name flag [MQTT-3.1.2-22]')
  }
  const properties = packet.properties ?? {}
  if (properties.receiveMaximum === 0) return refuse(protocol, ReasonCode.ProtocolError, 'protocol-error', 'Receive Maximum of 0 [MQTT-3.1.2-20 (v5)]')
  if (properties.maximumPacketSize === 0) return refuse(protocol, ReasonCode.ProtocolError, 'protocol-error', 'Maximum Packet Size of 0 [MQTT-3.1.2-24 (v5)]')
  if (properties.authenticationData !== undefined && properties.authenticationMethod === undefined) {
    return refuse(protocol, ReasonCode.ProtocolError, 'protocol-error', 'Authentication Data without an Authentication Method')
  }

  const cleanStart = packet.clean !== false
  let clientId = packet.clientId ?? ''
  let clientIdAssigned = false
  const maxClientIdBytes = Math.min(protocol.maxClientIdLength, settings.maxClientIdLength)
  if (clientId.length === 0) {
    if (protocol.emptyClientIdRefused || (protocol.emptyClientIdNeedsCleanSession && !cleanStart)) {
      return refuse(protocol, ReasonCode.ClientIdentifierNotValid, 'connect-refused', 'empty client id without a clean session [MQTT-3.1.3-8]')
    }
    clientId = assignClientId()
    clientIdAssigned = true
  } else if (clientId.length * 3 > maxClientIdBytes && Buffer.byteLength(clientId) > maxClientIdBytes) {
    // [MQTT-3.1.3-8 (v5)] 0x85; [MQTT-3.1.3-9] v3 return code 2.
    const refusal = refuse(protocol, ReasonCode.ClientIdentifierNotValid, 'connect-refused', `client id of ${Buffer.byteLength(clientId)} bytes is longer than max-client-id-length ${maxClientIdBytes}`)
    return { ...refusal, limit: 'max-client-id-length' }
  }

  let will: Will | undefined
  if (packet.will !== undefined && packet.will !== null) {
    const willQos = packet.will.qos ?? 0
    if (willQos > 2) return refuse(protocol, ReasonCode.MalformedPacket, 'malformed-packet', 'will QoS 3 [MQTT-3.1.2-14]')
    const problem = topicNameProblem(packet.will.topic, settings.topicLimits)
    const limit = topicLimitOf(problem)
    // A will topic over a limit is valid, only refused: v5 0x90; v3 has no return code for it, so it closes without CONNACK [MQTT-3.2.2-6].
    if (limit !== undefined) return { ...refuse(protocol, ReasonCode.TopicNameInvalid, 'protocol-error', `will topic is over ${limit} (${problem})`), limit }
    if (problem !== undefined) return refuse(protocol, ReasonCode.TopicNameInvalid, 'protocol-error', `will topic "${packet.will.topic}" is invalid: ${problem}`)
    const { willDelayInterval, ...willProperties } = packet.will.properties ?? {}
    const payload = packet.will.payload
    will = {
      message: createMessage({
        topic: packet.will.topic,
        payload: typeof payload === 'string' ? Buffer.from(payload) : payload,
        qos: willQos as QoS,
        retain: packet.will.retain === true,
        properties: Object.keys(willProperties).length > 0 ? willProperties as MessageProperties : undefined,
        origin: clientId
      }),
      delay: willDelayInterval ?? 0
    }
  }

  const requested = packet.keepalive ?? 0
  const keepAlive = requested === 0 || requested > settings.maxKeepalive ? settings.maxKeepalive : requested
  const askedExpiry = protocol.reasonCodes ? properties.sessionExpiryInterval ?? 0 : cleanStart ? 0 : NEVER_EXPIRES
  const sessionExpiry = Math.min(askedExpiry, settings.maxSessionExpiry)

  return {
    accepted: true,
    protocol,
    clientId,
    clientIdAssigned,
    cleanStart,
    sessionExpiry,
    sessionExpiryLowered: sessionExpiry !== askedExpiry,
    keepAlive,
    keepAliveChanged: keepAlive !== requested,
    will,
    username: packet.username,
    password: packet.password,
    clientReceiveMaximum: properties.receiveMaximum ?? 65535,
    clientMaximumPacketSize: properties.maximumPacketSize,
    clientTopicAliasMaximum: properties.topicAliasMaximum ?? 0,
    requestProblemInformation: properties.requestProblemInformation ?? true,
    requestResponseInformation: properties.requestResponseInformation ?? false,
    authenticationMethod: properties.authenticationMethod,
    authenticationData: properties.authenticationData,
    userProperties: properties.userProperties as unknown as UserPropertyList | undefined
  }
}

/**
 * The answer to the CONNECT of a client the broker decided, when it accepted the socket, not to
 * let in (max-connections, max-connections-per-address, max-connection-rate, memory-watermark):
 * CONNACK with the limit's reason code, v3 return code 3 Server unavailable, then close.
 */
export function refuseAdmission (protocol: ProtocolCapabilities, refusal: AdmissionRefusal, clientId: string | undefined): RefusedConnect {
  return refuse(protocol, refusal.reasonCode, 'connect-refused', `${refusal.detail} (client id "${(clientId ?? '').slice(0, 128)}")`)
}

function refuse (protocol: ProtocolCapabilities | undefined, connackReason: number | undefined, kind: 'connect-refused' | 'protocol-error' | 'malformed-packet', detail: string): RefusedConnect {
  // MQTT 3.1/3.1.1 can only answer the reasons it has return codes for; the rest just close.
  const answer = connackReason !== undefined && (protocol?.reasonCodes === true || kind === 'connect-refused') ? connackReason : undefined
  return { accepted: false, protocol, connackReason: answer, close: closeReason(kind, detail) }
}
