import type { Readable } from 'node:stream'
import type { ReadStream } from 'node:tty'
import { CommandFailure, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_USAGE } from './command-failure.js'

/**
 * Where the CLI's commands get a new password from: asked twice on the terminal without echo,
 * or one line read from stdin (`--password-stdin`, for scripts). The password is never printed.
 */

/** Standard input, or a stand-in for it; only a terminal (isTTY) can be asked interactively. */
export type SecretSource = Readable & { readonly isTTY?: boolean }

/**
 * A non-empty new password for `username`, from `input` as one line (`fromStdin`) or asked twice
 * on it as a terminal. Throws CommandFailure (nothing was changed yet) otherwise.
 */
export async function readNewPassword (username: string, { fromStdin, input }: { readonly fromStdin: boolean, readonly input: SecretSource }): Promise<string> {
  const password = fromStdin ? await passwordFromStream(input) : await passwordFromTerminal(username, input)
  if (password.length === 0) throw new CommandFailure(EXIT_FAILED, 'the password is empty; nothing was changed')
  return password
}

async function passwordFromStream (input: Readable): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of input) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk as Buffer)
  const text = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '')
  if (/[\r\n]/.test(text)) throw new CommandFailure(EXIT_FAILED, 'the password on stdin must be a single line; nothing was changed')
  return text
}

async function passwordFromTerminal (username: string, input: SecretSource): Promise<string> {
  if (input.isTTY !== true) {
    throw new CommandFailure(EXIT_USAGE, 'stdin is not a terminal: pipe the password in with --password-stdin')
  }
  const terminal = input as ReadStream
  const password = await askHidden(terminal, `Password for ${username}: `)
  if (password.length === 0) return password
  const again = await askHidden(terminal, 'Same password again: ')
  if (again !== password) throw new CommandFailure(EXIT_FAILED, 'the passwords do not match; nothing was changed')
  return password
}

/** Reads one line from the terminal without echoing it; the prompt goes to stderr. */
async function askHidden (input: ReadStream, prompt: string): Promise<string> {
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
