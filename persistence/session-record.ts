import { createMessage } from '../actors/router/message.js'
import type { Delivery } from '../actors/session/delivery.js'
import type { InflightState } from '../actors/session/inflight.js'
import type { Session } from '../actors/session/session.js'
import type { SessionMessageRecord, SessionRecord } from './store.js'

/** What the store keeps of a session apart from its messages: subscriptions, expiry, will. */
export function sessionRecordOf (session: Session): SessionRecord {
  return {
    clientId: session.clientId,
    subscriptions: [...session.subscriptions.values()],
    expiryInterval: session.expiryInterval,
    ...(session.expiresAt === undefined ? {} : { expiresAt: session.expiresAt }),
    ...(session.will === undefined ? {} : { will: { message: session.will.message, delay: session.will.delay } })
  }
}

/** The record of one message a session holds: queued, or sent as `packetId` and waiting in `state`. */
export function sessionMessageRecordOf (session: Session, seq: number, delivery: Delivery, packetId?: number, state?: InflightState): SessionMessageRecord {
  return {
    clientId: session.clientId,
    seq,
    message: delivery.message,
    qos: delivery.qos,
    retain: delivery.retain,
    ...(delivery.subscriptionIds === undefined ? {} : { subscriptionIds: delivery.subscriptionIds }),
    ...(delivery.sharedGroup === undefined ? {} : { sharedGroup: delivery.sharedGroup }),
    ...(packetId === undefined || state === undefined ? {} : { packetId, state })
  }
}

/** A stored session message, as the session takes it back at start. */
export function heldOf (record: SessionMessageRecord): { seq: number, delivery: Delivery, packetId?: number, state?: InflightState } {
  const delivery: Delivery = {
    message: createMessage(record.message),
    qos: record.qos,
    retain: record.retain,
    ...(record.subscriptionIds === undefined ? {} : { subscriptionIds: record.subscriptionIds }),
    ...(record.sharedGroup === undefined ? {} : { sharedGroup: record.sharedGroup })
  }
  return { seq: record.seq, delivery, ...(record.packetId === undefined || record.state === undefined ? {} : { packetId: record.packetId, state: record.state }) }
}
