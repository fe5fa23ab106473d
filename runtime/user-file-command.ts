import { parseArgs } from 'node:util'
import { parseUserFile, removeUserFileLine, setUserFileLine, UserFileError, type UserFileFormat } from '../actors/connection/auth-methods/user-file.js'
import { readFileForEdit, writeFileAtomically } from './atomic-file.js'
import { CommandFailure, EXIT_FAILED, EXIT_OK, EXIT_USAGE, type CommandOutcome } from './command-failure.js'
import { readNewPassword, type SecretSource } from './secret-input.js'

/**
 * What `troupe passwd` and `troupe scram-user` share: `FILE USER [--password-stdin]` adds USER
 * to a user file (user-file.ts), or gives an existing USER a new password asked twice on the
 * terminal (without echo) or read from stdin (one line); the password is never printed, only
 * what `entryFor` derives from it is written. With `canDelete`, `-D FILE USER` removes USER.
 * The file is created with mode 0600; an existing file keeps its other lines, its mode and
 * (when allowed) its owner, and is replaced atomically.
 */
export interface UserFileCommand<T> {
  readonly usage: string
  readonly format: UserFileFormat<T>
  readonly canDelete: boolean
  helpText (): string
  /** The file line (without a line break) that gives `username` this password. */
  entryFor (username: string, password: string): Promise<string>
}

/** Runs `command` with `argv` (after the command name); `input` stands for stdin. */
export async function runUserFileCommand<T> (command: UserFileCommand<T>, argv: readonly string[], input: SecretSource): Promise<CommandOutcome> {
  try {
    return await run(command, argv, input)
  } catch (error) {
    if (error instanceof CommandFailure) return { code: error.code, message: error.message }
    if (error instanceof UserFileError) return { code: EXIT_USAGE, message: `${error.message}; fix or remove that line first` }
    throw error
  }
}

async function run<T> (command: UserFileCommand<T>, argv: readonly string[], input: SecretSource): Promise<CommandOutcome> {
  let parsed
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        'password-stdin': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        ...(command.canDelete ? { delete: { type: 'boolean' as const, short: 'D' } } : {})
      }
    })
  } catch (error) {
    const message = (error as Error).message.replace(/\. To specify a positional argument.*$/s, '')
    throw new CommandFailure(EXIT_USAGE, `${message}; usage: ${command.usage}`)
  }
  if (parsed.values.help === true) return { code: EXIT_OK, message: command.helpText() }
  if (parsed.positionals.length !== 2) throw new CommandFailure(EXIT_USAGE, `expected a file and a user name; usage: ${command.usage}`)
  const [file, username] = parsed.positionals as [string, string]
  const problem = command.format.usernameProblem(username)
  if (problem !== undefined) throw new CommandFailure(EXIT_USAGE, `${problem}: ${JSON.stringify(username)}`)

  if ((parsed.values as { delete?: boolean }).delete === true) {
    if (parsed.values['password-stdin'] === true) throw new CommandFailure(EXIT_USAGE, `--delete takes no password; usage: ${command.usage}`)
    return await deleteUser(command, file, username)
  }

  // Read and check the file before asking for a password that could then not be stored.
  const existing = await readFileForEdit(file)
  if (existing !== undefined) parseUserFile(existing.text, file, command.format)

  const password = await readNewPassword(username, { fromStdin: parsed.values['password-stdin'] === true, input })
  const entry = await command.entryFor(username, password)

  // Read again: the file may have changed while the password was typed.
  const current = await readFileForEdit(file)
  const { text, replaced } = setUserFileLine(current?.text ?? '', file, command.format, username, entry)
  await writeFileAtomically(current?.path ?? file, text, current)
  return { code: EXIT_OK, message: `${replaced ? 'changed the password of' : 'added'} user ${JSON.stringify(username)} ${replaced ? 'in' : 'to'} ${file}` }
}

async function deleteUser<T> (command: UserFileCommand<T>, file: string, username: string): Promise<CommandOutcome> {
  const existing = await readFileForEdit(file)
  if (existing === undefined) throw new CommandFailure(EXIT_FAILED, `${file} does not exist; nothing was changed`)
  const { text, removed } = removeUserFileLine(existing.text, file, command.format, username)
  if (!removed) throw new CommandFailure(EXIT_FAILED, `user ${JSON.stringify(username)} is not in ${file}; nothing was changed`)
  await writeFileAtomically(existing.path, text, existing)
  return { code: EXIT_OK, message: `removed user ${JSON.stringify(username)} from ${file}` }
}
