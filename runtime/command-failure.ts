/**
 * How the CLI's file-editing commands (`troupe scram-user`, `troupe passwd`) end: each returns a
 * CommandOutcome, and anything that stops one half-way throws a CommandFailure, which the
 * command turns into its outcome. Kept apart from the commands so their shared parts (reading a
 * secret, writing a file atomically) can fail the same way.
 */

/** How the command ended; the CLI exits with `code` after printing `message` (to stderr if code ≠ 0). */
export interface CommandOutcome {
  readonly code: number
  readonly message: string
}

export const EXIT_OK = 0
export const EXIT_FAILED = 1
export const EXIT_USAGE = 2
/** What a shell reports for a command ended by Ctrl-C. */
export const EXIT_INTERRUPTED = 130

/** Stops a command with exit `code`; `message` is shown as is, so it says what to do next. */
export class CommandFailure extends Error {
  override readonly name = 'CommandFailure'

  constructor (readonly code: number, message: string) {
    super(message)
  }
}
