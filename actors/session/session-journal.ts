import type { Delivery } from './delivery.js'
import type { InflightState } from './inflight.js'
import type { Session } from './session.js'

/**
 * Where a persistent session records every change to the messages and packet ids it holds,
 * so that they outlive the broker process. The broker gives sessions a journal only when its
 * store is durable; with the memory store nothing is recorded. `seq` numbers a session's
 * messages in the order it took them; it only grows within a session.
 */
export interface SessionJournal {
  /**
   * The session holds `delivery`: queued (no packet id yet) or sent as `packetId` and waiting
   * in `state`. `fresh` on the first record of that message.
   */
  kept (session: Session, seq: number, delivery: Delivery, fresh: boolean, packetId?: number, state?: InflightState): void
  /** The session is done with message `seq`: acknowledged, expired, or handed to another session. */
  forgotten (session: Session, seq: number): void
  /** An inbound QoS 2 packet id starts (`waiting`) or stops waiting for PUBREL. */
  awaitingRelease (session: Session, packetId: number, waiting: boolean): void
}
