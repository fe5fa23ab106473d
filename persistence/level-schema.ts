import type { ClassicLevel } from 'classic-level'
import { SCHEMA_KEY } from './level-keys.js'
import { decodeSchema, encodeSchema } from './record-encoding.js'
import { StoreError } from './store.js'

/**
 * The version of the key layout and record set as a whole (each value also carries its own
 * format version). A release that changes either raises it and migrates older databases on
 * open; a release never opens a database written by a newer one, which could hold records it
 * would misread or drop.
 */
// 2: session messages in segments (level-segments.ts). Version 1, one key per message, was
// never released, so it is not migrated.
export const SCHEMA_VERSION = 2

/** Writes the schema record into a new database, or checks that this release can read an existing one. */
export async function ensureSchema (db: ClassicLevel<string, Buffer>, directory: string): Promise<void> {
  const stored = await db.get(SCHEMA_KEY)
  if (stored === undefined) {
    const anyKey = await db.keys({ limit: 1 }).all()
    if (anyKey.length > 0) {
      throw new StoreError(`${directory} holds a LevelDB database that Troupe did not write (it has no schema record): choose an empty or new directory for --data-dir`)
    }
    // Synchronous whatever the durability: it is written once, and a database without it would be refused.
    await db.put(SCHEMA_KEY, encodeSchema(SCHEMA_VERSION), { sync: true })
    return
  }
  const version = decodeSchema(SCHEMA_KEY, stored)
  if (version > SCHEMA_VERSION) {
    throw new StoreError(`the database in ${directory} has schema version ${version}, but this Troupe release reads only up to version ${SCHEMA_VERSION}: ` +
      'run a Troupe release at least as new as the one that last wrote it, or move the directory away to start with an empty store')
  }
  if (version < SCHEMA_VERSION && Number.isInteger(version) && version >= 1) {
    throw new StoreError(`the database in ${directory} has schema version ${version}, written by a development build of Troupe before its first release, ` +
      'which this release does not convert: move the directory away to start with an empty store')
  }
  if (version < 1 || !Number.isInteger(version)) {
    throw new StoreError(`the database in ${directory} has an invalid schema version ${version}: restore the directory from a backup, or move it away to start with an empty store`)
  }
}
