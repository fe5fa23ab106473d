import { constants } from 'node:fs'
import { access, mkdir, realpath } from 'node:fs/promises'
import { ClassicLevel } from 'classic-level'
import { directoryInUse, explainOpenFailure, unwritableDirectory } from './level-errors.js'
import { ensureSchema } from './level-schema.js'

export type LevelDatabase = ClassicLevel<string, Buffer>

/**
 * Data directories (real paths) this process has open. LevelDB locks a database with an fcntl
 * lock, which another process cannot take; but a second open in the same process makes
 * LevelDB open and close the LOCK file, and closing any descriptor of a file drops every
 * fcntl lock the process holds on it: the first database would stay open, unlocked, and a
 * second broker could then open it too. So this process refuses before LevelDB gets there.
 */
const directoriesInUse = new Set<string>()

/**
 * LevelDB's memtable size (its default is 4 MB). Session messages mostly live for
 * milliseconds: with a larger memtable most of them are written and deleted before it is
 * flushed, so they never reach a level-0 file, and LevelDB does not slow writes down for
 * level-0 files piling up under a steady QoS 1 load.
 */
const WRITE_BUFFER_BYTES = 32 * 1024 * 1024

/**
 * Opens (creating if missing) the LevelDB database of a data directory, checks that this release
 * can read it, and turns every way that can fail into a StoreError that says what to do.
 */
export async function openLevelDatabase (directory: string): Promise<LevelDatabase> {
  let location: string
  try {
    await mkdir(directory, { recursive: true })
    location = await realpath(directory)
  } catch (error) {
    throw explainOpenFailure(directory, error)
  }
  // LevelDB would fail too, but with "IO error: …/LOCK: Permission denied", which reads like
  // a locking problem. access() sees EROFS even for root; plain permissions do not stop root.
  try {
    await access(directory, constants.W_OK)
  } catch (error) {
    throw unwritableDirectory(directory, (error as NodeJS.ErrnoException).code ?? String(error))
  }
  if (directoriesInUse.has(location)) throw directoryInUse(directory)
  directoriesInUse.add(location)
  const db = new ClassicLevel<string, Buffer>(location, { keyEncoding: 'utf8', valueEncoding: 'buffer', createIfMissing: true, writeBufferSize: WRITE_BUFFER_BYTES })
  try {
    await db.open()
    await ensureSchema(db, directory)
  } catch (error) {
    await closeLevelDatabase(db).catch(() => undefined)
    throw explainOpenFailure(directory, error)
  }
  return db
}

/** Closes a database opened by `openLevelDatabase`, so that this process may open its directory again. */
export async function closeLevelDatabase (db: LevelDatabase): Promise<void> {
  try {
    await db.close()
  } finally {
    directoriesInUse.delete(db.location)
  }
}
