import type { Delivery } from '../actors/session/delivery.js'
import type { InflightState } from '../actors/session/inflight.js'
import type { SessionJournal } from '../actors/session/session-journal.js'
import type { Session } from '../actors/session/session.js'
import { sessionMessageRecordOf } from './session-record.js'
import type { StoreOperation } from './store.js'

/** A session journal that turns each change into a store operation for the next group commit. */
export class StoreJournal implements SessionJournal {
  constructor (private readonly write: (operation: StoreOperation) => void) {}

  kept (session: Session, seq: number, delivery: Delivery, fresh: boolean, packetId?: number, state?: InflightState): void {
    // A message already written changes only its packet id and state: no need to encode it again.
    if (!fresh && packetId !== undefined && state !== undefined) this.write({ type: 'session.message.state', clientId: session.clientId, seq, packetId, state })
    else this.write({ type: 'session.message.put', record: sessionMessageRecordOf(session, seq, delivery, packetId, state), fresh })
  }

  forgotten (session: Session, seq: number): void {
    this.write({ type: 'session.message.delete', clientId: session.clientId, seq })
  }

  awaitingRelease (session: Session, packetId: number, waiting: boolean): void {
    this.write({ type: waiting ? 'session.release.put' : 'session.release.delete', clientId: session.clientId, packetId })
  }
}
