import { parseArgs } from 'node:util'
import { readFileForEdit, writeFileAtomically } from './atomic-file.js'
import { PasswordFileError, parsePasswordFileLines, passwordFileUsernameProblem, removePasswordFileUser, setPasswordFileUser } from './auth/password-file.js'
import { DEFAULT_PBKDF2_ITERATIONS, hashPassword } from './auth/password-hash.js'
import { CommandFailure, EXIT_FAILED, EXIT_OK, EXIT_USAGE, type CommandOutcome } from './command-failure.js'
import { readNewPassword, type SecretSource } from './secret-input.js'

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

/** `input` stands for stdin: where the password is read from. */
export async function passwdCommand (argv: readonly string[], input: SecretSource = process.stdin): Promise<CommandOutcome> {
  try {
    return await run(argv, input)
  } catch (error) {
    if (error instanceof CommandFailure) return { code: error.code, message: error.message }
    if (error instanceof PasswordFileError) return { code: EXIT_USAGE, message: `${error.message}; fix or remove that line first` }
    throw error
  }
}

async function run (argv: readonly string[], input: SecretSource): Promise<CommandOutcome> {
  let parsed
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        'password-stdin': { type: 'boolean' },
        delete: { type: 'boolean', short: 'D' },
        help: { type: 'boolean', short: 'h' }
      }
    })
  } catch (error) {
    const message = (error as Error).message.replace(/\. To specify a positional argument.*$/s, '')
    throw new CommandFailure(EXIT_USAGE, `${message}; usage: ${PASSWD_USAGE}`)
  }
  if (parsed.values.help === true) return { code: EXIT_OK, message: helpText() }
  if (parsed.positionals.length !== 2) throw new CommandFailure(EXIT_USAGE, `expected a file and a user name; usage: ${PASSWD_USAGE}`)
  const [file, username] = parsed.positionals as [string, string]
  const problem = passwordFileUsernameProblem(username)
  if (problem !== undefined) throw new CommandFailure(EXIT_USAGE, `${problem}: ${JSON.stringify(username)}`)

  if (parsed.values.delete === true) {
    if (parsed.values['password-stdin'] === true) throw new CommandFailure(EXIT_USAGE, `--delete takes no password; usage: ${PASSWD_USAGE}`)
    return await deleteUser(file, username)
  }

  // Read and check the file before asking for a password that could then not be stored.
  const existing = await readFileForEdit(file)
  if (existing !== undefined) parsePasswordFileLines(existing.text, file)

  const password = await readNewPassword(username, { fromStdin: parsed.values['password-stdin'] === true, input })
  const hash = await hashPassword(Buffer.from(password, 'utf8'), DEFAULT_PBKDF2_ITERATIONS)

  // Read again: the file may have changed while the password was typed.
  const current = await readFileForEdit(file)
  const { text, replaced } = setPasswordFileUser(current?.text ?? '', file, username, hash)
  await writeFileAtomically(current?.path ?? file, text, current)
  return { code: EXIT_OK, message: `${replaced ? 'changed the password of' : 'added'} user ${JSON.stringify(username)} ${replaced ? 'in' : 'to'} ${file}` }
}

async function deleteUser (file: string, username: string): Promise<CommandOutcome> {
  const existing = await readFileForEdit(file)
  if (existing === undefined) throw new CommandFailure(EXIT_FAILED, `${file} does not exist; nothing was changed`)
  const { text, removed } = removePasswordFileUser(existing.text, file, username)
  if (!removed) throw new CommandFailure(EXIT_FAILED, `user ${JSON.stringify(username)} is not in ${file}; nothing was changed`)
  await writeFileAtomically(existing.path, text, existing)
  return { code: EXIT_OK, message: `removed user ${JSON.stringify(username)} from ${file}` }
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
