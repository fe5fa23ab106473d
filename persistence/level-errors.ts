import { StoreError } from './store.js'

/**
 * Turns what LevelDB and the file system report into StoreErrors that tell the user what is
 * wrong with the data directory and what to do. classic-level wraps the real reason: opening
 * fails with LEVEL_DATABASE_NOT_OPEN whose `cause` says LEVEL_LOCKED, LEVEL_CORRUPTION,
 * LEVEL_IO_ERROR or a Node error code such as EACCES.
 */

interface ErrorDetails {
  readonly code?: string
  readonly message: string
}

function details (error: unknown): ErrorDetails {
  if (!(error instanceof Error)) return { message: String(error) }
  const code = (error as { code?: unknown }).code
  return { code: typeof code === 'string' ? code : undefined, message: error.message }
}

/** The innermost reason: following `cause` through classic-level's (and our own) wrapping. */
function reasonOf (error: unknown): ErrorDetails {
  let innermost = error
  while (innermost instanceof Error && innermost.cause instanceof Error) innermost = innermost.cause
  return details(innermost)
}

// LevelDB reports file system errors as text ("IO error: <file>: Permission denied"), not codes.
const PERMISSION = /permission denied|read-only file system|operation not permitted/i
// "File too large" is EFBIG: the file size limit (ulimit -f) reached, a quota like any other.
const NO_SPACE = /no space left on device|disk quota exceeded|file too large/i

function isNoSpace (reason: ErrorDetails): boolean {
  return reason.code === 'ENOSPC' || NO_SPACE.test(reason.message)
}

function isUnwritable (reason: ErrorDetails): boolean {
  return reason.code === 'EACCES' || reason.code === 'EROFS' || reason.code === 'EPERM' || PERMISSION.test(reason.message)
}

export function directoryInUse (directory: string, cause?: unknown): StoreError {
  return new StoreError(`another broker is using ${directory}; stop it or choose another --data-dir`, { cause })
}

export function unwritableDirectory (directory: string, why: string, cause?: unknown): StoreError {
  return new StoreError(`cannot write to the data directory ${directory} (${why}): give the broker's user write access to it, or choose another --data-dir`, { cause })
}

/** The errors keep what LevelDB said as their `cause`, for logs and for `explainWriteFailure`. */
export function explainOpenFailure (directory: string, error: unknown): StoreError {
  if (error instanceof StoreError) return error
  const reason = reasonOf(error)
  if (reason.code === 'LEVEL_LOCKED') return directoryInUse(directory, error)
  if (reason.code === 'LEVEL_CORRUPTION') {
    return new StoreError(`the database in ${directory} is corrupt (${reason.message}). Troupe does not repair it on its own, because a repair can silently drop ` +
      'sessions and messages: restore the directory from a backup, or move it away to start with an empty store', { cause: error })
  }
  if (reason.code === 'EEXIST' || reason.code === 'ENOTDIR') {
    return new StoreError(`the data directory ${directory} is not a directory (${reason.code}): choose a directory for --data-dir, or a path that does not exist yet`, { cause: error })
  }
  if (isUnwritable(reason)) return unwritableDirectory(directory, reason.code ?? reason.message, error)
  if (isNoSpace(reason)) {
    return new StoreError(`cannot open the database in ${directory}: the disk is full (${reason.message}); free some space and start the broker again`, { cause: error })
  }
  return new StoreError(`cannot open the database in ${directory}: ${reason.message}; check that the data directory is a Troupe data directory on a working disk`, { cause: error })
}

export function explainWriteFailure (directory: string, error: unknown): StoreError {
  const reason = reasonOf(error)
  if (isNoSpace(reason)) {
    return new StoreError(`could not write to ${directory}: the disk is full (${reason.message}); free some space: the store writes again with the next batch`, { cause: error, diskFull: true })
  }
  if (isUnwritable(reason)) return unwritableDirectory(directory, reason.message, error)
  return new StoreError(`could not write to ${directory}: ${reason.message}; check the disk of the data directory: the store tries again with the next batch`, { cause: error })
}

export function explainReadFailure (directory: string, error: unknown): StoreError {
  if (error instanceof StoreError) return error
  const reason = reasonOf(error)
  if (reason.code === 'LEVEL_CORRUPTION') return explainOpenFailure(directory, error)
  return new StoreError(`could not read the database in ${directory}: ${reason.message}; check the disk of the data directory`, { cause: error })
}
