import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'

/** Bytes the files in `directory` take (not descending into subdirectories: LevelDB keeps none). */
export async function directorySize (directory: string): Promise<number> {
  let total = 0
  for (const entry of await readdir(directory, { withFileTypes: true })) {
    if (!entry.isFile()) continue
    total += (await stat(join(directory, entry.name)).catch(() => ({ size: 0 }))).size
  }
  return total
}
