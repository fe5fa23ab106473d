import type { IConnectPacket, QoS } from 'mqtt-packet'
import { createMessage, type Message } from '../../router/message.js'
import { topicNameProblem } from '../../router/topic-rules.js'
import type { ConnectionSettings } from '../broker-services.js'
import { closeReason, type CloseReason } from '../close-reason.js'
import { capabilitiesFor, type ProtocolCapabilities } from '../protocol/protocol-version.js'
import { ReasonCode } from '../protocol/reason-codes.js'

/** A CONNECT the broker will go on with (authentication is still to come). */
export interface AcceptedConnect {
  readonly accepted: true
  readonly protocol: ProtocolCapabilities
  readonly clientId: string
  /** The broker chose the client id, because the client sent an empty one [MQTT-3.1.3-6]. */
  readonly clientIdAssigned: boolean
  readonly cleanStart: boolean
  /** The session outlives the connection (clean session 0). */
  readonly persistent: boolean
  /** Seconds; 0 means none. */
  readonly keepAlive: number
  readonly will: Message | undefined
  readonly username: string | undefined
  readonly password: Buffer | undefined
}

/** A CONNECT the broker refuses: with a CONNACK code when the protocol lets it answer, then closing. */
export interface RefusedConnect {
  readonly accepted: false
  readonly protocol: ProtocolCapabilities | undefined
  /** The CONNACK reason code to send before closing, or undefined to close without CONNACK. */
  readonly connackReason: number | undefined
  readonly close: CloseReason
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

  const cleanStart = packet.clean !== false
  let clientId = packet.clientId ?? ''
  let clientIdAssigned = false
  if (clientId.length === 0) {
    if (protocol.emptyClientIdRefused || (protocol.emptyClientIdNeedsCleanSession && !cleanStart)) {
      return refuse(protocol, ReasonCode.ClientIdentifierNotValid, 'connect-refused', 'empty client id without a clean session [MQTT-3.1.3-8]')
    }
    clientId = assignClientId()
    clientIdAssigned = true
  } else if (clientId.length > protocol.maxClientIdLength) {
    return refuse(protocol, ReasonCode.ClientIdentifierNotValid, 'connect-refused', `client id longer than ${protocol.maxClientIdLength} characters`)
  }

  let will: Message | undefined
  if (packet.will !== undefined && packet.will !== null) {
    const willQos = packet.will.qos ?? 0
    if (willQos > 2) return refuse(protocol, undefined, 'malformed-packet', 'will QoS 3 [MQTT-3.1.2-14]')
    const problem = topicNameProblem(packet.will.topic)
    if (problem !== undefined) return refuse(protocol, undefined, 'protocol-error', `will topic "${packet.will.topic}" is invalid: ${problem}`)
    const payload = packet.will.payload
    will = createMessage({
      topic: packet.will.topic,
      payload: typeof payload === 'string' ? Buffer.from(payload) : payload,
      qos: willQos as QoS,
      retain: packet.will.retain === true,
      origin: clientId
    })
  }

  const requested = packet.keepalive ?? 0
  const keepAlive = requested === 0 || requested > settings.maxKeepalive ? settings.maxKeepalive : requested

  return {
    accepted: true,
    protocol,
    clientId,
    clientIdAssigned,
    cleanStart,
    persistent: !cleanStart,
    keepAlive,
    will,
    username: packet.username,
    password: packet.password
  }
}

function refuse (protocol: ProtocolCapabilities | undefined, connackReason: number | undefined, kind: 'connect-refused' | 'protocol-error' | 'malformed-packet', detail: string): RefusedConnect {
  return { accepted: false, protocol, connackReason, close: closeReason(kind, detail) }
}
