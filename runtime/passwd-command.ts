import { formatPasswordFileLine, PASSWORD_FILE } from './auth/password-file.js'
import { DEFAULT_PBKDF2_ITERATIONS, hashPassword, type PasswordHash } from './auth/password-hash.js'
import type { CommandOutcome } from './command-failure.js'
import type { SecretSource } from './secret-input.js'
import { runUserFileCommand, type UserFileCommand } from './user-file-command.js'

/**
 * `troupe passwd FILE USER [--password-stdin]`: adds USER to a Mosquitto password file, or gives
 * an existing USER a new password; `troupe passwd -D FILE USER` removes USER. The password is
 * asked twice on the terminal (without echo), or read from stdin (one line) with
 * --password-stdin; it is never printed. Only its `$7$` hash (PBKDF2-HMAC-SHA512, a fresh salt,
 * 210,000 iterations) is written, which mosquitto_passwd and Mosquitto read too. The file is
 * created with mode 0600; an existing file keeps its other lines, its mode and (when allowed)
 * its owner.
 */

export const PASSWD_USAGE = 'troupe passwd FILE USER [--password-stdin] | troupe passwd -D FILE USER'

const PASSWD: UserFileCommand<PasswordHash> = {
  usage: PASSWD_USAGE,
  format: PASSWORD_FILE,
  canDelete: true,
  helpText,
  entryFor: async (username, password) => formatPasswordFileLine(username, await hashPassword(Buffer.from(password, 'utf8'), DEFAULT_PBKDF2_ITERATIONS))
}

/** `input` stands for stdin: where the password is read from. */
export async function passwdCommand (argv: readonly string[], input: SecretSource = process.stdin): Promise<CommandOutcome> {
  return await runUserFileCommand(PASSWD, argv, input)
}

function helpText (): string {
  return [
    `Usage: ${PASSWD_USAGE}`,
    '',
    'Adds USER to the Mosquitto password FILE (created with mode 0600 if missing), or changes',
    'the password of USER if FILE has it already. Other lines are kept as they are. The file',
    `is the one mosquitto_passwd writes: new passwords are stored as $7$ (PBKDF2-HMAC-SHA512,`,
    `${DEFAULT_PBKDF2_ITERATIONS} iterations), which Mosquitto 2 reads too.`,
    '',
    'Options:',
    '  --password-stdin  Read the password from stdin (one line) instead of asking twice on the terminal',
    '  -D, --delete      Remove USER from FILE'
  ].join('\n')
}
