import type { QoS } from 'mqtt-packet'
import type { MessageProperties } from '../actors/router/message.js'
import type { Subscription } from '../actors/router/subscription.js'

/** A message as a store keeps it. */
export interface StoredMessage {
  readonly topic: string
  readonly payload: Buffer
  readonly qos: QoS
  readonly retain: boolean
  readonly properties?: MessageProperties
  /** Client id of the publisher (No Local needs it after a restart); undefined for the broker's own. */
  readonly origin?: string
  /** Epoch milliseconds at which the broker received it; message expiry counts from here. */
  readonly receivedAt: number
}

/** A will kept with its session, so that a restart still sends it when it is due. */
export interface StoredWill {
  readonly message: StoredMessage
  /** v5 Will Delay Interval in seconds; 0 sends it as soon as the connection is gone. */
  readonly delay: number
}

/** What of a persistent session must outlive the broker process, apart from its messages. */
export interface SessionRecord {
  readonly clientId: string
  readonly subscriptions: readonly Subscription[]
  /** Session Expiry Interval in seconds (0xFFFFFFFF: never); absent in records of older releases. */
  readonly expiryInterval?: number
  /**
   * Epoch milliseconds at which the session ends if its client does not come back; absent
   * while a client is connected (a restart then counts the interval from the restart).
   */
  readonly expiresAt?: number
  /** The will of the connection that holds (or last held) the session, if it has one still due. */
  readonly will?: StoredWill
}

/** Outbound QoS 1/2 progress of a session message; absent while it waits in the queue. */
export type StoredMessageState = 'awaitingPuback' | 'awaitingPubrec' | 'awaitingPubcomp'

/**
 * One QoS 1/2 message on its way to one persistent session: queued, or sent and not yet
 * acknowledged. `seq` orders a session's messages (it only grows within a session).
 */
export interface SessionMessageRecord {
  readonly clientId: string
  readonly seq: number
  readonly message: StoredMessage
  /** The QoS this subscriber gets: min(publish QoS, granted QoS). */
  readonly qos: QoS
  /** The retain flag as this subscriber sees it. */
  readonly retain: boolean
  readonly subscriptionIds?: readonly number[]
  /** The `$share` group that chose this session, if any. */
  readonly sharedGroup?: string
  /** Set once the message was sent: its packet id and where its flow stands. */
  readonly packetId?: number
  readonly state?: StoredMessageState
}

/** One change; a batch of them is applied atomically, in order. */
export type StoreOperation =
  | { readonly type: 'retained.put', readonly message: StoredMessage }
  | { readonly type: 'retained.delete', readonly topic: string }
  /** Creates or replaces a session record; its messages and release ids are left as they are. */
  | { readonly type: 'session.put', readonly session: SessionRecord }
  /** Deletes a session with everything it holds: record, messages, release ids. */
  | { readonly type: 'session.delete', readonly clientId: string }
  /**
   * Creates or replaces one message of a session (by client id and seq). `fresh` marks the
   * first write of that message, so that a batch holding its delete too may skip both.
   */
  | { readonly type: 'session.message.put', readonly record: SessionMessageRecord, readonly fresh?: boolean }
  /** A held message was sent as `packetId` or moved on to `state`; its message is unchanged. Ignored for a message the session does not hold. */
  | { readonly type: 'session.message.state', readonly clientId: string, readonly seq: number, readonly packetId: number, readonly state: StoredMessageState }
  | { readonly type: 'session.message.delete', readonly clientId: string, readonly seq: number }
  /** An inbound QoS 2 packet id whose PUBREC was sent; it waits for PUBREL [MQTT-4.3.3-2]. */
  | { readonly type: 'session.release.put', readonly clientId: string, readonly packetId: number }
  | { readonly type: 'session.release.delete', readonly clientId: string, readonly packetId: number }

/** A session as read back at start: its record, its messages in seq order, and its release ids. */
export interface StoredSession extends SessionRecord {
  readonly messages: readonly SessionMessageRecord[]
  /** Ascending. */
  readonly awaitingRelease: readonly number[]
}

/** Everything a store holds, read once at start. */
export interface StoreContents {
  readonly retained: readonly StoredMessage[]
  readonly sessions: readonly StoredSession[]
}

/**
 * Where durable broker state lives. Every implementation passes the same contract suite
 * (test/store/store-contract.ts), so the broker never depends on which one it runs on.
 */
export interface Store {
  /** A short name for logs and metrics, such as `memory` or `level`. */
  readonly kind: string
  /**
   * True when what `apply` resolved survives the broker process: the broker then writes every
   * session message and sends an acknowledgement only once its writes are applied. False for a
   * store that forgets everything at exit, where waiting would only cost time.
   */
  readonly durable: boolean
  open (): Promise<void>
  /**
   * Applies every operation or none, in order. Resolves once they are as durable as the store
   * promises; rejects with a StoreError (and changes nothing) when they cannot be written.
   * Messages and release ids may be written for a session whose record comes later (or never):
   * `load` returns only sessions that have a record, and may drop what belongs to none.
   */
  apply (operations: readonly StoreOperation[]): Promise<void>
  load (): Promise<StoreContents>
  close (): Promise<void>
}

/** A store that cannot do what was asked; the message says what the user can do about it. */
export class StoreError extends Error {
  override readonly name = 'StoreError'
  /** The disk (or the store's quota) is full: v5 clients are told Quota exceeded (0x97). */
  readonly diskFull: boolean

  constructor (message: string, options: { readonly cause?: unknown, readonly diskFull?: boolean } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.diskFull = options.diskFull ?? false
  }
}
