import { readFile } from 'node:fs/promises'
import type { ScramCredentials, ScramCredentialStore } from './scram-credentials.js'

/**
 * The SCRAM credentials file: one user per line in the RFC 5803 form PostgreSQL also stores,
 * after the user name and a colon:
 *
 *   username:SCRAM-SHA-256$<iterations>:<base64 salt>$<base64 StoredKey>:<base64 ServerKey>
 *
 * Blank lines and lines whose first non-blank character is `#` are ignored. The user name is
 * everything before the first `:` (so it cannot hold one) and is taken exactly as written; it
 * is the name a client sends in its SCRAM client-first message (after un-escaping =2C and =3D).
 * Lines may end in CRLF, and a UTF-8 byte order mark is skipped. The file holds no password,
 * nor anything a client could log in with, but a StoredKey lets whoever reads it try passwords
 * offline: keep the file private (mode 0600).
 */

const MECHANISM = 'SCRAM-SHA-256'
const KEY_LENGTH = 32
const MAX_ITERATIONS = 0x7fffffff
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/
/** C0 controls, DEL and C1 controls: never part of a user name here (a line break would end the line). */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/u
const FORMAT = `expected user:${MECHANISM}$<iterations>:<salt>$<StoredKey>:<ServerKey>`

/**
 * A credentials file that cannot be read or has a bad line. The message names the file, the
 * line and what is wrong, never the key material on it; `problem` is the part after the place.
 */
export class ScramCredentialsFileError extends Error {
  override readonly name = 'ScramCredentialsFileError'

  constructor (
    readonly file: string,
    /** 1-based; undefined when the problem is the whole file (it cannot be read). */
    readonly line: number | undefined,
    readonly problem: string
  ) {
    super(`${file}${line === undefined ? '' : `:${line}`}: ${problem}`)
  }

  /** The problem with its line, without the file name: "line 3: ...". */
  get detail (): string {
    return this.line === undefined ? this.problem : `line ${this.line}: ${this.problem}`
  }
}

/** Why `username` cannot be written to a credentials file, or undefined if it can. */
export function scramUsernameProblem (username: string): string | undefined {
  if (username.length === 0) return 'the user name is empty'
  if (username.includes(':')) return 'a user name cannot contain ":"'
  if (CONTROL.test(username)) return 'a user name cannot contain control characters or line breaks'
  if (username.trim() !== username) return 'a user name cannot start or end with white space'
  if (username.startsWith('#')) return 'a user name cannot start with "#" (the line would be a comment)'
  return undefined
}

/** The file line for one user (without a line break). Throws RangeError for a name or credentials a file cannot hold. */
export function formatScramCredentials (username: string, credentials: ScramCredentials): string {
  const problem = scramUsernameProblem(username)
  if (problem !== undefined) throw new RangeError(`${problem}: ${JSON.stringify(username)}`)
  const { iterations, salt, storedKey, serverKey } = credentials
  if (!Number.isInteger(iterations) || iterations < 1 || iterations > MAX_ITERATIONS) throw new RangeError(`SCRAM iterations must be from 1 to ${MAX_ITERATIONS}, not ${iterations}`)
  if (salt.length === 0) throw new RangeError('a SCRAM salt must not be empty')
  if (storedKey.length !== KEY_LENGTH || serverKey.length !== KEY_LENGTH) throw new RangeError(`SCRAM-SHA-256 keys are ${KEY_LENGTH} bytes`)
  return `${username}:${MECHANISM}$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`
}

/** One line of a credentials file, as `parseScramCredentialsLines` sees it. */
export type ScramCredentialsLine =
  | { readonly kind: 'ignored', readonly text: string }
  | { readonly kind: 'user', readonly text: string, readonly username: string, readonly credentials: ScramCredentials }

/**
 * Every line of a credentials file, each with its text (without the line break, a CR before it
 * kept), checked. Throws ScramCredentialsFileError at the first bad line or repeated user.
 */
export function parseScramCredentialsLines (text: string, file: string): ScramCredentialsLine[] {
  const lines = text.replace(/^\uFEFF/u, '').split('\n')
  if (lines.at(-1) === '') lines.pop()
  const seen = new Map<string, number>()
  return lines.map((line, index) => {
    const number = index + 1
    const content = line.endsWith('\r') ? line.slice(0, -1) : line
    if (content.trim().length === 0 || content.trimStart().startsWith('#')) return { kind: 'ignored', text: line }
    const { username, credentials } = parseEntry(content, problem => new ScramCredentialsFileError(file, number, problem))
    const first = seen.get(username)
    if (first !== undefined) throw new ScramCredentialsFileError(file, number, `user ${JSON.stringify(username)} is already on line ${first}; give each user one line`)
    seen.set(username, number)
    return { kind: 'user', text: line, username, credentials }
  })
}

/** The users of a credentials file's text, in file order. Throws ScramCredentialsFileError. */
export function parseScramCredentials (text: string, file: string): Map<string, ScramCredentials> {
  const users = new Map<string, ScramCredentials>()
  for (const line of parseScramCredentialsLines(text, file)) if (line.kind === 'user') users.set(line.username, line.credentials)
  return users
}

/**
 * Sets `username`'s credentials in a credentials file's text: its line is replaced where it is,
 * or a line is added at the end; every other line, comments included, stays as it was. The
 * text must parse (a ScramCredentialsFileError otherwise: an edit never hides a broken file).
 */
export function setScramCredentials (text: string, file: string, username: string, credentials: ScramCredentials): { readonly text: string, readonly replaced: boolean } {
  const entry = formatScramCredentials(username, credentials)
  const lines = parseScramCredentialsLines(text, file)
  const at = lines.findIndex(line => line.kind === 'user' && line.username === username)
  const texts = lines.map(line => line.text)
  if (at >= 0) {
    texts[at] = texts[at]!.endsWith('\r') ? `${entry}\r` : entry
  } else {
    // Follow the file's line endings if it has any.
    texts.push(texts.length > 0 && texts.every(line => line.endsWith('\r')) ? `${entry}\r` : entry)
  }
  return { text: texts.map(line => `${line}\n`).join(''), replaced: at >= 0 }
}

/** The users of one credentials file, held in memory: read once, at start. */
export class ScramCredentialsFile implements ScramCredentialStore {
  constructor (readonly file: string, readonly users: ReadonlyMap<string, ScramCredentials>) {}

  /** Reads and parses `file`; any failure, unreadable file included, is a ScramCredentialsFileError. */
  static async read (file: string): Promise<ScramCredentialsFile> {
    let text: string
    try {
      text = await readFile(file, 'utf8')
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      throw new ScramCredentialsFileError(file, undefined, `cannot read the file (${code ?? String(error)}); give the path of a SCRAM credentials file`)
    }
    return new ScramCredentialsFile(file, parseScramCredentials(text, file))
  }

  async lookup (username: string): Promise<ScramCredentials | undefined> {
    return this.users.get(username)
  }
}

function parseEntry (content: string, fail: (problem: string) => ScramCredentialsFileError): { username: string, credentials: ScramCredentials } {
  const colon = content.indexOf(':')
  // Nothing of a line without a colon is repeated: it may be a password pasted by mistake.
  if (colon < 0) throw fail(`no ":" after the user name; ${FORMAT}`)
  const username = content.slice(0, colon)
  const problem = scramUsernameProblem(username)
  if (problem !== undefined) throw fail(problem)
  const who = `user ${JSON.stringify(username)}`
  const secret = content.slice(colon + 1)
  if (!secret.startsWith(`${MECHANISM}$`)) throw fail(`${who}: the credentials do not start with "${MECHANISM}$"; ${FORMAT}`)
  const parts = secret.slice(MECHANISM.length + 1).split('$')
  if (parts.length !== 2) throw fail(`${who}: expected two "$"-separated parts after "${MECHANISM}", <iterations>:<salt> and <StoredKey>:<ServerKey>`)
  const [parameters, keys] = parts as [string, string]
  const parameterParts = parameters.split(':')
  const keyParts = keys.split(':')
  if (parameterParts.length !== 2) throw fail(`${who}: expected <iterations>:<salt> after "${MECHANISM}$"`)
  if (keyParts.length !== 2) throw fail(`${who}: expected <StoredKey>:<ServerKey> after the second "$"`)
  const [iterationText, saltText] = parameterParts as [string, string]
  const [storedKeyText, serverKeyText] = keyParts as [string, string]
  const iterations = /^[1-9][0-9]{0,9}$/.test(iterationText) ? Number(iterationText) : Number.NaN
  if (!(iterations <= MAX_ITERATIONS)) throw fail(`${who}: the iteration count is not a whole number from 1 to ${MAX_ITERATIONS}`)
  const salt = base64(saltText)
  if (salt === undefined || salt.length === 0) throw fail(`${who}: the salt is not non-empty base64`)
  const storedKey = base64(storedKeyText)
  if (storedKey?.length !== KEY_LENGTH) throw fail(`${who}: the StoredKey is not base64 of ${KEY_LENGTH} bytes`)
  const serverKey = base64(serverKeyText)
  if (serverKey?.length !== KEY_LENGTH) throw fail(`${who}: the ServerKey is not base64 of ${KEY_LENGTH} bytes`)
  return { username, credentials: { iterations, salt, storedKey, serverKey } }
}

/** Strict (padded, no white space) base64, or undefined. */
function base64 (text: string): Buffer | undefined {
  return BASE64.test(text) ? Buffer.from(text, 'base64') : undefined
}
