import { checkUserName, parseUserFile, readUserFile, removeUserFileLine, setUserFileLine, UserFileError, userNameProblem, type UserFileFormat } from '../../actors/connection/auth-methods/user-file.js'
import { formatPasswordHash, parsePasswordHash, type PasswordHash } from './password-hash.js'

/**
 * A Mosquitto password file, as mosquitto_passwd writes it: one user per line,
 *
 *   username:$7$<iterations>$<base64 salt>$<base64 hash>
 *
 * (or a `$6$` hash, see password-hash.ts). Blank lines and lines whose first non-blank character
 * is `#` are ignored. The user name is everything before the first `:` and is taken exactly as
 * written. Lines may end in CRLF, white space after the hash is ignored (Mosquitto trims it too)
 * and a UTF-8 byte order mark is skipped. The hashes let whoever reads the file try passwords
 * offline: keep it private (mode 0600).
 */

/** MQTT strings are at most 65535 bytes: a longer name could never log in. */
const MAX_USERNAME_BYTES = 65_535

/** A password file that cannot be read or has a bad line (see UserFileError). */
export class PasswordFileError extends UserFileError {
  override readonly name = 'PasswordFileError'
}

/** Why `username` cannot be written to a password file, or undefined if it can. */
export function passwordFileUsernameProblem (username: string): string | undefined {
  const problem = userNameProblem(username)
  if (problem !== undefined) return problem
  if (Buffer.byteLength(username, 'utf8') > MAX_USERNAME_BYTES) return `a user name is at most ${MAX_USERNAME_BYTES} bytes of UTF-8 (the MQTT limit)`
  return undefined
}

/** The Mosquitto password file as a user file (user-file.ts): its hashes and its error. */
export const PASSWORD_FILE: UserFileFormat<PasswordHash> = {
  error: (file, line, problem) => new PasswordFileError(file, line, problem),
  usernameProblem: passwordFileUsernameProblem,
  expected: 'expected user:<hash>, as mosquitto_passwd writes',
  what: 'a Mosquitto password file',
  parseSecret: (secret, fail) => {
    // White space after the hash is ignored, as Mosquitto trims it.
    const hash = parsePasswordHash(secret.replace(/[ \t]+$/, ''))
    return 'problem' in hash ? fail(hash.problem) : hash
  }
}

/** The users of a password file's text, in file order. Throws PasswordFileError. */
export function parsePasswordFile (text: string, file: string): Map<string, PasswordHash> {
  return parseUserFile(text, file, PASSWORD_FILE)
}

/** The file line for one user (without a line break). Throws RangeError for a name a file cannot hold. */
export function formatPasswordFileLine (username: string, hash: PasswordHash): string {
  checkUserName(username, PASSWORD_FILE)
  return `${username}:${formatPasswordHash(hash)}`
}

/**
 * Sets `username`'s hash in a password file's text: its line is replaced where it is, or a line
 * is added at the end; every other line, comments included, stays as it was. The text must
 * parse (a PasswordFileError otherwise: an edit never hides a broken file).
 */
export function setPasswordFileUser (text: string, file: string, username: string, hash: PasswordHash): { readonly text: string, readonly replaced: boolean } {
  return setUserFileLine(text, file, PASSWORD_FILE, username, formatPasswordFileLine(username, hash))
}

/**
 * Removes `username`'s line from a password file's text, keeping every other line. `removed` is
 * false (and the text unchanged) when the file has no such user. Throws PasswordFileError.
 */
export function removePasswordFileUser (text: string, file: string, username: string): { readonly text: string, readonly removed: boolean } {
  return removeUserFileLine(text, file, PASSWORD_FILE, username)
}

/** Reads and parses `file`; any failure, unreadable file included, is a PasswordFileError. */
export async function readPasswordFile (file: string): Promise<Map<string, PasswordHash>> {
  return await readUserFile(file, PASSWORD_FILE)
}
