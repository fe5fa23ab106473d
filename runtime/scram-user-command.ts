import { formatScramCredentials, SCRAM_FILE } from '../actors/connection/auth-methods/scram-credentials-file.js'
import { scramCredentialsFor, type ScramCredentials } from '../actors/connection/auth-methods/scram-credentials.js'
import type { CommandOutcome } from './command-failure.js'
import type { SecretSource } from './secret-input.js'
import { runUserFileCommand, type UserFileCommand } from './user-file-command.js'

/**
 * `troupe scram-user FILE USER [--password-stdin]`: adds USER to a SCRAM credentials file, or
 * gives an existing USER a new password. The password is asked twice on the terminal (without
 * echo), or read from stdin (one line) with --password-stdin; it is never printed, and only
 * its salted derivation (a fresh random salt, 4096 iterations) is written. The file is created
 * with mode 0600; an existing file keeps its other lines, its mode and (when allowed) its owner.
 */

export const SCRAM_USER_USAGE = 'troupe scram-user FILE USER [--password-stdin]'

const SCRAM_USER: UserFileCommand<ScramCredentials> = {
  usage: SCRAM_USER_USAGE,
  format: SCRAM_FILE,
  canDelete: false,
  helpText,
  // Only the salted derivation (a fresh random salt, 4096 iterations) is written.
  entryFor: async (username, password) => formatScramCredentials(username, await scramCredentialsFor(password))
}

/** `input` stands for stdin: where the password is read from. */
export async function scramUserCommand (argv: readonly string[], input: SecretSource = process.stdin): Promise<CommandOutcome> {
  return await runUserFileCommand(SCRAM_USER, argv, input)
}

function helpText (): string {
  return [
    `Usage: ${SCRAM_USER_USAGE}`,
    '',
    'Adds USER to the SCRAM-SHA-256 credentials FILE (created with mode 0600 if missing),',
    'or changes the password of USER if FILE has it already. Other lines are kept as they are.',
    'Start the broker with --scram-users FILE to let MQTT 5 clients log in with these users.',
    '',
    'Options:',
    '  --password-stdin  Read the password from stdin (one line) instead of asking twice on the terminal'
  ].join('\n')
}
