import type { ISubackPacket, IUnsubackPacket, Packet } from 'mqtt-packet'
import type { Permission } from './authorizer.js'
import type { Session } from '../session/session.js'
import type { CloseReason } from './close-reason.js'
import type { BrokerServices } from './broker-services.js'
import type { AcceptedConnect } from './handlers/connect.js'
import type { Acknowledgement } from './protocol/acknowledgement.js'
import type { ProtocolCapabilities } from './protocol/protocol-version.js'
import type { TopicAliases } from './protocol/topic-aliases.js'

/**
 * What a packet handler sees of its connection once CONNECT was accepted: the protocol, the
 * session, the broker's services, and a way to send packets. Handlers are plain functions of
 * a link and a packet, testable without a socket or a machine.
 */
export interface ConnectionLink {
  readonly clientId: string
  /** `host:port` of the client, for log lines. */
  readonly remoteAddress?: string
  readonly protocol: ProtocolCapabilities
  readonly session: Session
  /** What the client asked for and was given in CONNECT. */
  readonly connect: AcceptedConnect
  readonly topicAliases: TopicAliases
  readonly broker: BrokerServices
  /** Starts a re-authentication (AUTH 0x19); a close reason when it cannot start. */
  reauthenticate (packet: Extract<Packet, { cmd: 'auth' }>): CloseReason | undefined
  /** Feeds an AUTH 0x18 to the exchange under way; one that no exchange awaited ends the connection. */
  receiveAuth (packet: Extract<Packet, { cmd: 'auth' }>): void
  /** Encodes and queues a control packet for this connection's socket. */
  send (packet: Packet): void
  /**
   * Sends PUBACK, PUBREC, PUBREL, PUBCOMP, SUBACK or UNSUBACK for a client's packet once
   * everything the broker wrote for it is durable, in the order they were asked for
   * [MQTT-4.6.0-2], then runs `then`; if the write failed, refuses instead (v5 reason code on
   * PUBACK/PUBREC, otherwise the connection closes so that the client sends it again).
   */
  acknowledge (ack: Acknowledgement | ISubackPacket | IUnsubackPacket, then?: () => void): void
  /**
   * The answer of `ask` for the packet being handled, about `action` on `subject` (a topic or
   * filter): a decision that came in while the packet was held (AwaitingPermission) is given
   * from memory when the handler runs again, instead of asking a second time.
   */
  permission (action: string, subject: string, ask: () => Permission): Permission
}
