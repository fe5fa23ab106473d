import type { Delivery } from '../actors/session/delivery.js'
import type { InflightState } from '../actors/session/inflight.js'
import type { SessionJournal } from '../actors/session/session-journal.js'
import type { Session } from '../actors/session/session.js'
import { sessionMessageRecordOf } from './session-record.js'
import type { StoreOperation } from './store.js'

/** A session journal that turns each change into a store operation for the next group commit. */
export class StoreJournal implements SessionJournal {
  constructor (private readonly write: (operation: StoreOperation) => void) {}

  kept (session: Session, seq: number, delivery: Delivery, packetId?: number, state?: InflightState): void {
    this.write({ type: 'session.message.put', record: sessionMessageRecordOf(session, seq, delivery, packetId, state) })
  }

  forgotten (session: Session, seq: number): void {
    this.write({ type: 'session.message.delete', clientId: session.clientId, seq })
  }

  awaitingRelease (session: Session, packetId: number, waiting: boolean): void {
    this.write({ type: waiting ? 'session.release.put' : 'session.release.delete', clientId: session.clientId, packetId })
  }
}
