import type { Logger } from 'pino'
import type { Router } from '../router/router.js'
import type { SessionRegistry } from '../session/session-registry.js'
import type { DropReason } from '../session/session.js'
import type { AuthMethod } from './auth-methods/auth-method.js'
import type { Authenticator } from './authenticator.js'
import type { Authorizer } from './authorizer.js'
import type { ConnectionSupervisor } from './connection-supervisor.machine.js'
import type { FailedLogins } from './failed-logins.js'
import type { KeepAliveSweeper } from './keep-alive.js'
import type { LimitContext, LimitKind } from './limits/limit-kind.js'
import type { TopicLimits } from '../router/topic-rules.js'
import type { ReasonCode } from './protocol/reason-codes.js'

/** Limits and timings every connection follows. */
export interface ConnectionSettings {
  /** Seconds; a client asking for more, or for 0 (none), gets this. */
  readonly maxKeepalive: number
  /** Largest packet, in bytes, the broker accepts; larger ones close the connection. */
  readonly maxPacketSize: number
  /** How long a new socket may take to send CONNECT. */
  readonly connectTimeoutMs: number
  /** Unsent bytes above which a client counts as backed up (QoS 0 to it is dropped). */
  readonly outboxHighWaterMark: number
  /** Inbound QoS 2 messages a client may have awaiting PUBREL (MQTT 5 Receive Maximum). */
  readonly receiveMaximum: number
  /** Seconds; the longest a session outlives its connection (0xFFFFFFFF: never expires). */
  readonly maxSessionExpiry: number
  /** Topic aliases a v5 client may use, per direction. */
  readonly maxTopicAlias: number
  /** The v5 SUBACK code for a filter the authorizer refuses: 0x87 Not authorized, or 0x80 where configured so. */
  readonly subscribeDeniedReason: typeof ReasonCode.NotAuthorized | typeof ReasonCode.UnspecifiedError
  /** Longest client id, in UTF-8 bytes; a longer one is refused (v5 0x85, v3 return code 2). */
  readonly maxClientIdLength: number
  /** Longest topic (bytes) and most levels of topic names and filters; over them is refused (v5 0x90 / 0x8F). */
  readonly topicLimits: TopicLimits
  /** Subscriptions one session may hold; 0 for no limit. */
  readonly maxSubscriptions: number
  /** Inbound PUBLISH packets a second per client, enforced by reading its socket more slowly; 0 for no limit. */
  readonly maxMessageRate: number
  /** Inbound bytes a second per client, enforced the same way; 0 for no limit. */
  readonly maxBandwidth: number
}

/** Counters the data path bumps; plain fields, because they are touched per message. */
export interface TrafficCounters {
  messagesReceived: number
  messagesSent: number
  bytesReceived: number
  bytesSent: number
  readonly packetsReceived: Record<string, number>
  readonly dropped: Record<DropReason, number>
  connectionsAccepted: number
  connectionsRefused: number
  /** Logins refused: wrong credentials, denied by a provider, or from a banned address. */
  authFailures: number
  /** Times each limit refused, slowed down or shed something. */
  readonly limited: Record<LimitKind, number>
}

/** The broker as the connection actors see it. */
export interface BrokerServices {
  readonly router: Router
  readonly sessions: SessionRegistry
  readonly settings: ConnectionSettings
  readonly authenticator: Authenticator
  /** What each client may publish, subscribe to and read; undefined allows everything. */
  readonly authorizer?: Authorizer
  /** MQTT 5 enhanced authentication methods by name (SCRAM-SHA-256, ...); empty when none is offered. */
  readonly authMethods: ReadonlyMap<string, AuthMethod>
  /** Failed logins per client address, and the bans they lead to. */
  readonly failedLogins: FailedLogins
  readonly counters: TrafficCounters
  readonly log: Logger
  /** Watches every connection for silence past its keep-alive. */
  readonly keepAlive: KeepAliveSweeper
  /** The parent actor every connection actor is created under. */
  readonly supervisor: ConnectionSupervisor
  /** A client id for a client that connected without one [MQTT-3.1.3-6]. */
  assignClientId (): string
  /** Persists a durable session's record (subscriptions, expiry, will) after it changes. */
  saveSession (clientId: string): void
  /**
   * Runs `then` once every store write requested so far is durable, or with the error that
   * stopped them; at once when the store keeps nothing across restarts.
   */
  afterWrites (then: (error?: Error) => void): void
  /** Memory is above memory-watermark: QoS 0 to a client that fell even a little behind is dropped. */
  readonly overloaded: boolean
  /** A limit refused, slowed down or shed something: counted in `counters.limited`, and logged (a few lines at most). */
  limitReached (kind: LimitKind, context: LimitContext): void
}
