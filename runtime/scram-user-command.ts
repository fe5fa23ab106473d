import { parseArgs } from 'node:util'
import { parseScramCredentialsLines, ScramCredentialsFileError, scramUsernameProblem, setScramCredentials } from '../actors/connection/auth-methods/scram-credentials-file.js'
import { scramCredentialsFor } from '../actors/connection/auth-methods/scram-credentials.js'
import { readFileForEdit, writeFileAtomically } from './atomic-file.js'
import { CommandFailure, EXIT_OK, EXIT_USAGE, type CommandOutcome } from './command-failure.js'
import { readNewPassword, type SecretSource } from './secret-input.js'

/**
 * `troupe scram-user FILE USER [--password-stdin]`: adds USER to a SCRAM credentials file, or
 * gives an existing USER a new password. The password is asked twice on the terminal (without
 * echo), or read from stdin (one line) with --password-stdin; it is never printed, and only
 * its salted derivation (a fresh random salt, 4096 iterations) is written. The file is created
 * with mode 0600; an existing file keeps its other lines, its mode and (when allowed) its owner.
 */

export const SCRAM_USER_USAGE = 'troupe scram-user FILE USER [--password-stdin]'

/** `input` stands for stdin: where the password is read from. */
export async function scramUserCommand (argv: readonly string[], input: SecretSource = process.stdin): Promise<CommandOutcome> {
  try {
    return await run(argv, input)
  } catch (error) {
    if (error instanceof CommandFailure) return { code: error.code, message: error.message }
    if (error instanceof ScramCredentialsFileError) return { code: EXIT_USAGE, message: `${error.message}; fix or remove that line first` }
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
      options: { 'password-stdin': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }
    })
  } catch (error) {
    const message = (error as Error).message.replace(/\. To specify a positional argument.*$/s, '')
    throw new CommandFailure(EXIT_USAGE, `${message}; usage: ${SCRAM_USER_USAGE}`)
  }
  if (parsed.values.help === true) return { code: EXIT_OK, message: helpText() }
  if (parsed.positionals.length !== 2) throw new CommandFailure(EXIT_USAGE, `expected a file and a user name; usage: ${SCRAM_USER_USAGE}`)
  const [file, username] = parsed.positionals as [string, string]
  const problem = scramUsernameProblem(username)
  if (problem !== undefined) throw new CommandFailure(EXIT_USAGE, `${problem}: ${JSON.stringify(username)}`)

  // Read and check the file before asking for a password that could then not be stored.
  const existing = await readFileForEdit(file)
  if (existing !== undefined) parseScramCredentialsLines(existing.text, file)

  const password = await readNewPassword(username, { fromStdin: parsed.values['password-stdin'] === true, input })
  const credentials = await scramCredentialsFor(password)

  // Read again: the file may have changed while the password was typed.
  const current = await readFileForEdit(file)
  const { text, replaced } = setScramCredentials(current?.text ?? '', file, username, credentials)
  await writeFileAtomically(current?.path ?? file, text, current)
  return { code: EXIT_OK, message: `${replaced ? 'changed the password of' : 'added'} user ${JSON.stringify(username)} ${replaced ? 'in' : 'to'} ${file}` }
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
