import type { Logger } from 'pino'
import type { Router } from '../router/router.js'
import type { SessionRegistry } from '../session/session-registry.js'
import type { DropReason } from '../session/session.js'
import type { AuthMethod } from './auth-methods/auth-method.js'
import type { Authenticator } from './authenticator.js'
import type { Authorizer } from './authorizer.js'
import type { ConnectionSupervisor } from './connection-supervisor.machine.js'
import type { KeepAliveSweeper } from './keep-alive.js'

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
}
