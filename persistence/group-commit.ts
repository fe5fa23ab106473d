import type { PersistenceActor } from './persistence.machine.js'
import type { StoreOperation } from './store.js'

/**
 * Collects the store writes of one event-loop tick and hands them to the persistence actor as
 * one batch on the next turn (setImmediate), so a tick with a thousand acknowledged messages
 * costs one event and one store write, not a thousand. Plain code on purpose: it runs per
 * message, where an actor event would cost microseconds.
 */
export class GroupCommit {
  private operations: StoreOperation[] = []
  private settled: Array<(error?: Error) => void> = []
  private scheduled = false

  constructor (
    private readonly actor: PersistenceActor,
    /** Told once per batch that failed, with how many operations it lost. */
    private readonly onFailure?: (error: Error, operations: number) => void,
    /** Told once per batch applied, with the seconds from its hand-over to the store's answer. */
    private readonly onApplied?: (seconds: number, operations: number) => void
  ) {}

  write (operation: StoreOperation): void {
    this.operations.push(operation)
    this.schedule()
  }

  /**
   * Runs `then` once every write requested so far is applied, or with the error that stopped
   * them. Callbacks run in the order they were given.
   */
  afterWrites (then: (error?: Error) => void): void {
    this.settled.push(then)
    this.schedule()
  }

  /** Resolves once every write requested so far is applied; rejects with the store's error. */
  async flushed (): Promise<void> {
    await new Promise<void>((resolve, reject) => this.afterWrites(error => error === undefined ? resolve() : reject(error)))
  }

  private schedule (): void {
    if (this.scheduled) return
    this.scheduled = true
    setImmediate(() => this.send())
  }

  private send (): void {
    this.scheduled = false
    const operations = this.operations
    if (this.onFailure !== undefined && operations.length > 0) {
      this.settled.push(error => { if (error !== undefined) this.onFailure!(error, operations.length) })
    }
    if (this.onApplied !== undefined && operations.length > 0) {
      const started = performance.now()
      this.settled.push(error => { if (error === undefined) this.onApplied!((performance.now() - started) / 1000, operations.length) })
    }
    const batch = { operations, settled: this.settled }
    this.operations = []
    this.settled = []
    this.actor.send({ type: 'store.batch', batch })
  }
}
