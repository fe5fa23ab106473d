import { randomBytes } from 'node:crypto'
import { chmod, chown, open, readFile, realpath, rename, stat, unlink } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { CommandFailure, EXIT_FAILED } from './command-failure.js'

/**
 * Reading and replacing a small private file (credentials, passwords) the way the CLI's
 * commands edit them: the new text goes to a temporary file beside the old one, which is then
 * renamed over it, so a broker reading the file never sees half of it. Failures are
 * CommandFailures naming the file.
 */

/** A file as read before an edit. */
export interface ExistingFile {
  /** The file itself when FILE is a symbolic link, so the edit goes where the link points. */
  readonly path: string
  readonly text: string
  readonly mode: number
  readonly uid: number
  readonly gid: number
}

/** The file's text and what must survive the edit, or undefined if there is no such file. */
export async function readFileForEdit (file: string): Promise<ExistingFile | undefined> {
  try {
    const path = await realpath(file)
    const [text, stats] = await Promise.all([readFile(path, 'utf8'), stat(path)])
    return { path, text, mode: stats.mode & 0o7777, uid: stats.uid, gid: stats.gid }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT') return undefined
    throw new CommandFailure(EXIT_FAILED, `cannot read ${file} (${code ?? String(error)})`)
  }
}

/**
 * Writes `text` to `path` atomically. A new file gets mode 0600; an existing one (as read by
 * readFileForEdit) keeps its mode and, when allowed, its owner.
 */
export async function writeFileAtomically (path: string, text: string, existing: ExistingFile | undefined): Promise<void> {
  const temporary = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`)
  let handle
  try {
    handle = await open(temporary, 'wx', 0o600)
  } catch (error) {
    throw new CommandFailure(EXIT_FAILED, `cannot write a file in ${dirname(path)} (${(error as NodeJS.ErrnoException).code ?? String(error)})`)
  }
  try {
    try {
      await handle.writeFile(text, 'utf8')
      // chown first (allowed only to root or the owner): it may clear set-id bits that chmod then restores.
      if (existing !== undefined) await chown(temporary, existing.uid, existing.gid).catch(() => {})
      // Set, not left to the umask: exactly 0600 for a new file, the old mode for an existing one.
      await chmod(temporary, existing?.mode ?? 0o600)
      await handle.sync()
    } finally {
      await handle.close()
    }
    await rename(temporary, path)
  } catch (error) {
    await unlink(temporary).catch(() => {})
    throw new CommandFailure(EXIT_FAILED, `cannot write ${path} (${(error as NodeJS.ErrnoException).code ?? String(error)})`)
  }
}
