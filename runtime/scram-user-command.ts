import { randomBytes } from 'node:crypto'
import { chmod, chown, open, readFile, realpath, rename, stat, unlink } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { parseArgs } from 'node:util'
import { parseScramCredentialsLines, ScramCredentialsFileError, scramUsernameProblem, setScramCredentials } from '../actors/connection/auth-methods/scram-credentials-file.js'
import { scramCredentialsFor } from '../actors/connection/auth-methods/scram-credentials.js'

/**
 * `troupe scram-user FILE USER [--password-stdin]`: adds USER to a SCRAM credentials file, or
 * gives an existing USER a new password. The password is asked twice on the terminal (without
 * echo), or read from stdin (one line) with --password-stdin; it is never printed, and only
 * its salted derivation (a fresh random salt, 4096 iterations) is written. The file is created
 * with mode 0600; an existing file keeps its other lines, its mode and (when allowed) its owner.
 */

export const SCRAM_USER_USAGE = 'troupe scram-user FILE USER [--password-stdin]'

/** How the command ended; the CLI exits with `code` after printing `message` (to stderr if code ≠ 0). */
export interface CommandOutcome {
  readonly code: number
  readonly message: string
}

const EXIT_OK = 0
const EXIT_FAILED = 1
const EXIT_USAGE = 2
/** What a shell reports for a command ended by Ctrl-C. */
const EXIT_INTERRUPTED = 130

class CommandFailure extends Error {
  constructor (readonly code: number, message: string) {
    super(message)
  }
}

export async function scramUserCommand (argv: readonly string[]): Promise<CommandOutcome> {
  try {
    return await run(argv)
  } catch (error) {
    if (error instanceof CommandFailure) return { code: error.code, message: error.message }
    if (error instanceof ScramCredentialsFileError) return { code: EXIT_USAGE, message: `${error.message}; fix or remove that line first` }
    throw error
  }
}

async function run (argv: readonly string[]): Promise<CommandOutcome> {
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
  const existing = await readExisting(file)
  if (existing !== undefined) parseScramCredentialsLines(existing.text, file)

  const password = parsed.values['password-stdin'] === true ? await passwordFromStdin() : await passwordFromTerminal(username)
  if (password.length === 0) throw new CommandFailure(EXIT_FAILED, 'the password is empty; nothing was changed')
  const credentials = await scramCredentialsFor(password)

  // Read again: the file may have changed while the password was typed.
  const current = await readExisting(file)
  const { text, replaced } = setScramCredentials(current?.text ?? '', file, username, credentials)
  await writeAtomically(current?.path ?? file, text, current)
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

interface ExistingFile {
  /** The file itself when FILE is a symbolic link, so the edit goes where the link points. */
  readonly path: string
  readonly text: string
  readonly mode: number
  readonly uid: number
  readonly gid: number
}

async function readExisting (file: string): Promise<ExistingFile | undefined> {
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

/** Writes a new file beside `path` and renames it over `path`, so a reader never sees half a file. */
async function writeAtomically (path: string, text: string, existing: ExistingFile | undefined): Promise<void> {
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

async function passwordFromStdin (): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  const text = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '')
  if (/[\r\n]/.test(text)) throw new CommandFailure(EXIT_FAILED, 'the password on stdin must be a single line; nothing was changed')
  return text
}

async function passwordFromTerminal (username: string): Promise<string> {
  if (process.stdin.isTTY !== true) {
    throw new CommandFailure(EXIT_USAGE, 'stdin is not a terminal: pipe the password in with --password-stdin')
  }
  const password = await askHidden(`Password for ${username}: `)
  if (password.length === 0) return password
  const again = await askHidden('Same password again: ')
  if (again !== password) throw new CommandFailure(EXIT_FAILED, 'the passwords do not match; nothing was changed')
  return password
}

/** Reads one line from the terminal without echoing it; the prompt goes to stderr. */
async function askHidden (prompt: string): Promise<string> {
  const input = process.stdin
  process.stderr.write(prompt)
  input.setRawMode(true)
  input.setEncoding('utf8')
  input.resume()
  return await new Promise<string>((resolve, reject) => {
    let value = ''
    const finish = (settle: () => void): void => {
      input.off('data', onData)
      input.setRawMode(false)
      input.pause()
      process.stderr.write('\n')
      settle()
    }
    const onData = (chunk: string): void => {
      for (const char of chunk) {
        if (char === '\r' || char === '\n') return finish(() => resolve(value))
        if (char === '\u0003') return finish(() => reject(new CommandFailure(EXIT_INTERRUPTED, 'interrupted; nothing was changed')))
        if (char === '\u0004' && value.length === 0) return finish(() => reject(new CommandFailure(EXIT_FAILED, 'no password given; nothing was changed')))
        if (char === '\u007f' || char === '\b') value = [...value].slice(0, -1).join('')
        else if (char === '\u0015') value = ''
        else if (char >= ' ') value += char
      }
    }
    input.on('data', onData)
  })
}
