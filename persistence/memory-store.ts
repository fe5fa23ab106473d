import { StoreError, type SessionMessageRecord, type SessionRecord, type Store, type StoreContents, type StoreOperation, type StoredMessage, type StoredSession } from './store.js'

const KNOWN_OPERATIONS = new Set<string>([
  'retained.put', 'retained.delete',
  'session.put', 'session.delete',
  'session.message.put', 'session.message.state', 'session.message.delete',
  'session.release.put', 'session.release.delete'
] satisfies ReadonlyArray<StoreOperation['type']>)

/** The default store: everything in process memory, gone when the process ends. */
export class MemoryStore implements Store {
  readonly kind = 'memory'
  // Nothing survives the process, so the broker need not wait for writes before acknowledging.
  readonly durable = false
  private readonly retained = new Map<string, StoredMessage>()
  private readonly sessions = new Map<string, SessionRecord>()
  /** Per client, its messages by seq; kept apart from records, as a message may come before its record. */
  private readonly messages = new Map<string, Map<number, SessionMessageRecord>>()
  private readonly releases = new Map<string, Set<number>>()
  private opened = false

  async open (): Promise<void> {
    this.opened = true
  }

  async apply (operations: readonly StoreOperation[]): Promise<void> {
    this.assertOpen()
    // Check the whole batch before touching anything, so it is all or nothing like a real
    // store's: an unknown operation is the only thing that can fail once past this loop.
    for (const operation of operations) {
      if (!KNOWN_OPERATIONS.has(operation.type)) throw new StoreError(`unknown store operation ${JSON.stringify(operation)}: this is a broker bug, please report it`)
    }
    for (const operation of operations) {
      switch (operation.type) {
        case 'retained.put': this.retained.set(operation.message.topic, operation.message); break
        case 'retained.delete': this.retained.delete(operation.topic); break
        case 'session.put': this.sessions.set(operation.session.clientId, operation.session); break
        case 'session.delete':
          this.sessions.delete(operation.clientId)
          this.messages.delete(operation.clientId)
          this.releases.delete(operation.clientId)
          break
        case 'session.message.put': entryOf(this.messages, operation.record.clientId, () => new Map()).set(operation.record.seq, operation.record); break
        case 'session.message.state': {
          const messages = this.messages.get(operation.clientId)
          const held = messages?.get(operation.seq)
          if (held !== undefined) messages!.set(operation.seq, { ...held, packetId: operation.packetId, state: operation.state })
          break
        }
        case 'session.message.delete': this.messages.get(operation.clientId)?.delete(operation.seq); break
        case 'session.release.put': entryOf(this.releases, operation.clientId, () => new Set()).add(operation.packetId); break
        case 'session.release.delete': this.releases.get(operation.clientId)?.delete(operation.packetId); break
      }
    }
  }

  async load (): Promise<StoreContents> {
    this.assertOpen()
    const sessions: StoredSession[] = []
    for (const [clientId, record] of this.sessions) {
      const messages = [...this.messages.get(clientId)?.values() ?? []].sort((a, b) => a.seq - b.seq)
      const awaitingRelease = [...this.releases.get(clientId) ?? []].sort((a, b) => a - b)
      sessions.push({ ...record, messages, awaitingRelease })
    }
    return { retained: [...this.retained.values()], sessions }
  }

  async close (): Promise<void> {
    this.opened = false
  }

  private assertOpen (): void {
    if (!this.opened) throw new StoreError('the memory store is not open: call open() before using it')
  }
}

function entryOf<V> (map: Map<string, V>, key: string, create: () => V): V {
  let value = map.get(key)
  if (value === undefined) {
    value = create()
    map.set(key, value)
  }
  return value
}
