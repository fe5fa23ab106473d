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
  readonly receivedAt: number
}

/** What of a persistent session must outlive the broker process. */
export interface SessionRecord {
  readonly clientId: string
  readonly subscriptions: readonly Subscription[]
}

/** One change; a batch of them is applied atomically. */
export type StoreOperation =
  | { readonly type: 'retained.put', readonly message: StoredMessage }
  | { readonly type: 'retained.delete', readonly topic: string }
  | { readonly type: 'session.put', readonly session: SessionRecord }
  | { readonly type: 'session.delete', readonly clientId: string }

/** Everything a store holds, read once at start. */
export interface StoreContents {
  readonly retained: readonly StoredMessage[]
  readonly sessions: readonly SessionRecord[]
}

/**
 * Where durable broker state lives. Every implementation passes the same contract suite
 * (test/store/store-contract.ts), so the broker never depends on which one it runs on.
 */
export interface Store {
  /** A short name for logs and metrics, such as `memory` or `level`. */
  readonly kind: string
  open (): Promise<void>
  /** Applies every operation or none. Resolves once they are as durable as the store promises. */
  apply (operations: readonly StoreOperation[]): Promise<void>
  load (): Promise<StoreContents>
  close (): Promise<void>
}

/** A store that cannot do what was asked; the message says what the user can do about it. */
export class StoreError extends Error {
  override readonly name = 'StoreError'
}
