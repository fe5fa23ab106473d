import { toLevelBatch, type SegmentIndex } from './level-batch.js'
import { readContents, readSegmentIndex } from './level-contents.js'
import { explainReadFailure, explainWriteFailure } from './level-errors.js'
import { closeLevelDatabase, openLevelDatabase, type LevelDatabase } from './level-open.js'
import { StoreError, type Store, type StoreContents, type StoreOperation } from './store.js'

/**
 * When `apply` resolves:
 * - `fsync`: once the batch is on disk (LevelDB syncs its log on every batch); survives a
 *   power loss, at the price of one fsync per batch.
 * - `os`: once the operating system has the batch; survives a crash of the broker process,
 *   but a power loss can take the last batches with it.
 */
export type LevelDurability = 'fsync' | 'os'

export interface LevelStoreOptions {
  /** The data directory; created if missing. One broker at a time may use it. */
  readonly directory: string
  readonly durability: LevelDurability
}

/** A durable store on LevelDB (through classic-level), in one data directory. */
export class LevelStore implements Store {
  readonly kind = 'level'
  readonly durable = true
  private db: LevelDatabase | undefined
  /**
   * Set after a failed write. LevelDB refuses every later write once a log sync or a
   * compaction failed (for example on a full disk), until the database is opened again; so
   * the next batch (or load) reopens it first, and the store recovers as soon as the disk does.
   */
  private reopenBeforeNextWrite = false
  /**
   * Where each session's message segments stand (level-segments.ts); read at open, and read
   * again after a failed batch, which may have left it ahead of the disk.
   */
  private segments: SegmentIndex | undefined
  /** The end of the chain every operation waits on: one at a time, in call order. */
  private tail: Promise<void> = Promise.resolve()

  constructor (readonly options: LevelStoreOptions) {}

  open (): Promise<void> {
    return this.oneAtATime(async () => {
      if (this.db !== undefined) return
      const db = await openLevelDatabase(this.options.directory)
      try {
        this.segments = await readSegmentIndex(db)
      } catch (error) {
        await closeLevelDatabase(db).catch(() => undefined)
        throw explainReadFailure(this.options.directory, error)
      }
      this.db = db
      this.reopenBeforeNextWrite = false
    })
  }

  async apply (operations: readonly StoreOperation[]): Promise<void> {
    this.assertOpen()
    if (operations.length === 0) return
    // One at a time also keeps `session.delete` atomic: the keys it lists cannot change
    // before its batch is written (see toLevelBatch).
    return this.oneAtATime(async () => {
      const db = await this.usableDatabase()
      const segments = this.segments ??= await readSegmentIndex(db).catch((error: unknown) => { throw explainReadFailure(this.options.directory, error) })
      let writes
      try {
        writes = await toLevelBatch(operations, range => db.keys({ gte: range.gte, lt: range.lt }).all(), segments)
      } catch (error) {
        this.segments = undefined
        throw explainReadFailure(this.options.directory, error)
      }
      try {
        await db.batch(writes, { sync: this.options.durability === 'fsync' })
      } catch (error) {
        this.reopenBeforeNextWrite = true
        this.segments = undefined
        throw explainWriteFailure(this.options.directory, error)
      }
    })
  }

  load (): Promise<StoreContents> {
    return this.oneAtATime(async () => {
      const db = await this.usableDatabase()
      try {
        return await readContents(db)
      } catch (error) {
        throw explainReadFailure(this.options.directory, error)
      }
    })
  }

  close (): Promise<void> {
    return this.oneAtATime(async () => {
      const db = this.db
      this.db = undefined
      this.segments = undefined
      if (db !== undefined) await closeLevelDatabase(db)
    })
  }

  private oneAtATime<T> (task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task)
    this.tail = result.then(() => undefined, () => undefined)
    return result
  }

  private assertOpen (): LevelDatabase {
    if (this.db === undefined) throw new StoreError(`the level store in ${this.options.directory} is not open: call open() before using it`)
    return this.db
  }

  private async usableDatabase (): Promise<LevelDatabase> {
    const db = this.assertOpen()
    if (!this.reopenBeforeNextWrite) return db
    await closeLevelDatabase(db).catch(() => undefined)
    this.db = await openLevelDatabase(this.options.directory).catch((error: unknown) => {
      // The closed instance stays, so the store still counts as open and the next batch retries.
      throw explainWriteFailure(this.options.directory, error)
    })
    this.reopenBeforeNextWrite = false
    return this.db
  }
}
