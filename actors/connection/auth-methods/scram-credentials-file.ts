import type { ScramCredentials, ScramCredentialStore } from './scram-credentials.js'
import { checkUserName, parseUserFile, readUserFile, setUserFileLine, UserFileError, userNameProblem, type UserFileFormat } from './user-file.js'

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
const FORMAT = `expected user:${MECHANISM}$<iterations>:<salt>$<StoredKey>:<ServerKey>`

/** A credentials file that cannot be read or has a bad line (see UserFileError). */
export class ScramCredentialsFileError extends UserFileError {
  override readonly name = 'ScramCredentialsFileError'
}

/** The SCRAM credentials file as a user file (user-file.ts): its secrets and its error. */
export const SCRAM_FILE: UserFileFormat<ScramCredentials> = {
  error: (file, line, problem) => new ScramCredentialsFileError(file, line, problem),
  usernameProblem: userNameProblem,
  expected: FORMAT,
  what: 'a SCRAM credentials file',
  parseSecret: parseCredentials
}

/** The file line for one user (without a line break). Throws RangeError for a name or credentials a file cannot hold. */
export function formatScramCredentials (username: string, credentials: ScramCredentials): string {
  checkUserName(username, SCRAM_FILE)
  const { iterations, salt, storedKey, serverKey } = credentials
  if (!Number.isInteger(iterations) || iterations < 1 || iterations > MAX_ITERATIONS) throw new RangeError(`SCRAM iterations must be from 1 to ${MAX_ITERATIONS}, not ${iterations}`)
  if (salt.length === 0) throw new RangeError('a SCRAM salt must not be empty')
  if (storedKey.length !== KEY_LENGTH || serverKey.length !== KEY_LENGTH) throw new RangeError(`SCRAM-SHA-256 keys are ${KEY_LENGTH} bytes`)
  return `${username}:${MECHANISM}$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`
}

/** The users of a credentials file's text, in file order. Throws ScramCredentialsFileError. */
export function parseScramCredentials (text: string, file: string): Map<string, ScramCredentials> {
  return parseUserFile(text, file, SCRAM_FILE)
}

/**
 * Sets `username`'s credentials in a credentials file's text: its line is replaced where it is,
 * or a line is added at the end; every other line, comments included, stays as it was. The
 * text must parse (a ScramCredentialsFileError otherwise: an edit never hides a broken file).
 */
export function setScramCredentials (text: string, file: string, username: string, credentials: ScramCredentials): { readonly text: string, readonly replaced: boolean } {
  return setUserFileLine(text, file, SCRAM_FILE, username, formatScramCredentials(username, credentials))
}

/** The users of one credentials file, held in memory: read once, at start. */
export class ScramCredentialsFile implements ScramCredentialStore {
  constructor (readonly file: string, readonly users: ReadonlyMap<string, ScramCredentials>) {}

  /** Reads and parses `file`; any failure, unreadable file included, is a ScramCredentialsFileError. */
  static async read (file: string): Promise<ScramCredentialsFile> {
    return new ScramCredentialsFile(file, await readUserFile(file, SCRAM_FILE))
  }

  async lookup (username: string): Promise<ScramCredentials | undefined> {
    return this.users.get(username)
  }
}

function parseCredentials (secret: string, fail: (problem: string) => never): ScramCredentials {
  if (!secret.startsWith(`${MECHANISM}$`)) fail(`the credentials do not start with "${MECHANISM}$"; ${FORMAT}`)
  const parts = secret.slice(MECHANISM.length + 1).split('$')
  if (parts.length !== 2) fail(`expected two "$"-separated parts after "${MECHANISM}", <iterations>:<salt> and <StoredKey>:<ServerKey>`)
  const [parameters, keys] = parts as [string, string]
  const parameterParts = parameters.split(':')
  const keyParts = keys.split(':')
  if (parameterParts.length !== 2) fail(`expected <iterations>:<salt> after "${MECHANISM}$"`)
  if (keyParts.length !== 2) fail('expected <StoredKey>:<ServerKey> after the second "$"')
  const [iterationText, saltText] = parameterParts as [string, string]
  const [storedKeyText, serverKeyText] = keyParts as [string, string]
  const iterations = /^[1-9][0-9]{0,9}$/.test(iterationText) ? Number(iterationText) : Number.NaN
  if (!(iterations <= MAX_ITERATIONS)) fail(`the iteration count is not a whole number from 1 to ${MAX_ITERATIONS}`)
  const salt = base64(saltText)
  if (salt === undefined || salt.length === 0) fail('the salt is not non-empty base64')
  const storedKey = base64(storedKeyText)
  if (storedKey?.length !== KEY_LENGTH) fail(`the StoredKey is not base64 of ${KEY_LENGTH} bytes`)
  const serverKey = base64(serverKeyText)
  if (serverKey?.length !== KEY_LENGTH) fail(`the ServerKey is not base64 of ${KEY_LENGTH} bytes`)
  return { iterations, salt, storedKey, serverKey }
}

/** Strict (padded, no white space) base64, or undefined. */
function base64 (text: string): Buffer | undefined {
  return BASE64.test(text) ? Buffer.from(text, 'base64') : undefined
}
