import { StoreError, type SessionRecord, type Store, type StoreContents, type StoreOperation, type StoredMessage } from './store.js'

const KNOWN_OPERATIONS = new Set<string>(['retained.put', 'retained.delete', 'session.put', 'session.delete'])

/** The default store: everything in process memory, gone when the process ends. */
export class MemoryStore implements Store {
  readonly kind = 'memory'
  private readonly retained = new Map<string, StoredMessage>()
  private readonly sessions = new Map<string, SessionRecord>()
  private opened = false

  async open (): Promise<void> {
    this.opened = true
  }

  async apply (operations: readonly StoreOperation[]): Promise<void> {
    this.assertOpen()
    // Check the whole batch before touching anything, so it is all or nothing like a real store's.
    for (const operation of operations) {
      if (!KNOWN_OPERATIONS.has(operation.type)) throw new StoreError(`unknown store operation ${JSON.stringify(operation)}`)
    }
    for (const operation of operations) {
      switch (operation.type) {
        case 'retained.put': this.retained.set(operation.message.topic, operation.message); break
        case 'retained.delete': this.retained.delete(operation.topic); break
        case 'session.put': this.sessions.set(operation.session.clientId, operation.session); break
        case 'session.delete': this.sessions.delete(operation.clientId); break
      }
    }
  }

  async load (): Promise<StoreContents> {
    this.assertOpen()
    return { retained: [...this.retained.values()], sessions: [...this.sessions.values()] }
  }

  async close (): Promise<void> {
    this.opened = false
  }

  private assertOpen (): void {
    if (!this.opened) throw new StoreError('the memory store is not open: call open() before using it')
  }
}
