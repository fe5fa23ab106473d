import { readFile } from 'node:fs/promises'
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

/** C0 controls, DEL and C1 controls: never part of a user name here (a line break would end the line). */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/u
/** MQTT strings are at most 65535 bytes: a longer name could never log in. */
const MAX_USERNAME_BYTES = 65_535

/**
 * A password file that cannot be read or has a bad line. The message names the file, the line
 * and what is wrong, never the hash (or pasted password) on it; `problem` is the part after the place.
 */
export class PasswordFileError extends Error {
  override readonly name = 'PasswordFileError'

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

/** Why `username` cannot be written to a password file, or undefined if it can. */
export function passwordFileUsernameProblem (username: string): string | undefined {
  if (username.length === 0) return 'the user name is empty'
  if (username.includes(':')) return 'a user name cannot contain ":"'
  if (CONTROL.test(username)) return 'a user name cannot contain control characters or line breaks'
  if (username.trim() !== username) return 'a user name cannot start or end with white space'
  if (username.startsWith('#')) return 'a user name cannot start with "#" (the line would be a comment)'
  if (Buffer.byteLength(username, 'utf8') > MAX_USERNAME_BYTES) return `a user name is at most ${MAX_USERNAME_BYTES} bytes of UTF-8 (the MQTT limit)`
  return undefined
}

/** One line of a password file, as `parsePasswordFileLines` sees it. */
export type PasswordFileLine =
  | { readonly kind: 'ignored', readonly text: string }
  | { readonly kind: 'user', readonly text: string, readonly username: string, readonly hash: PasswordHash }

/**
 * Every line of a password file, each with its text (without the line break, a CR before it
 * kept), checked. Throws PasswordFileError at the first bad line or repeated user.
 */
export function parsePasswordFileLines (text: string, file: string): PasswordFileLine[] {
  const lines = text.replace(/^\uFEFF/u, '').split('\n')
  if (lines.at(-1) === '') lines.pop()
  const seen = new Map<string, number>()
  return lines.map((line, index) => {
    const number = index + 1
    const content = line.endsWith('\r') ? line.slice(0, -1) : line
    if (content.trim().length === 0 || content.trimStart().startsWith('#')) return { kind: 'ignored', text: line }
    const fail = (problem: string): PasswordFileError => new PasswordFileError(file, number, problem)
    const colon = content.indexOf(':')
    // Nothing of a line without a colon is repeated: it may be a password pasted by mistake.
    if (colon < 0) throw fail('no ":" after the user name; expected user:<hash>, as mosquitto_passwd writes')
    const username = content.slice(0, colon)
    const problem = passwordFileUsernameProblem(username)
    if (problem !== undefined) throw fail(problem)
    const who = `user ${JSON.stringify(username)}`
    const hash = parsePasswordHash(content.slice(colon + 1).replace(/[ \t]+$/, ''))
    if ('problem' in hash) throw fail(`${who}: ${hash.problem}`)
    const first = seen.get(username)
    if (first !== undefined) throw fail(`${who} is already on line ${first}; give each user one line`)
    seen.set(username, number)
    return { kind: 'user', text: line, username, hash }
  })
}

/** The users of a password file's text, in file order. Throws PasswordFileError. */
export function parsePasswordFile (text: string, file: string): Map<string, PasswordHash> {
  const users = new Map<string, PasswordHash>()
  for (const line of parsePasswordFileLines(text, file)) if (line.kind === 'user') users.set(line.username, line.hash)
  return users
}

/** The file line for one user (without a line break). Throws RangeError for a name a file cannot hold. */
export function formatPasswordFileLine (username: string, hash: PasswordHash): string {
  const problem = passwordFileUsernameProblem(username)
  if (problem !== undefined) throw new RangeError(`${problem}: ${JSON.stringify(username)}`)
  return `${username}:${formatPasswordHash(hash)}`
}

/**
 * Sets `username`'s hash in a password file's text: its line is replaced where it is, or a line
 * is added at the end; every other line, comments included, stays as it was. The text must
 * parse (a PasswordFileError otherwise: an edit never hides a broken file).
 */
export function setPasswordFileUser (text: string, file: string, username: string, hash: PasswordHash): { readonly text: string, readonly replaced: boolean } {
  const entry = formatPasswordFileLine(username, hash)
  const lines = parsePasswordFileLines(text, file)
  const at = lines.findIndex(line => line.kind === 'user' && line.username === username)
  const texts = lines.map(line => line.text)
  if (at >= 0) {
    texts[at] = texts[at]!.endsWith('\r') ? `${entry}\r` : entry
  } else {
    // Follow the file's line endings if it has any.
    texts.push(texts.length > 0 && texts.every(line => line.endsWith('\r')) ? `${entry}\r` : entry)
  }
  return { text: joinLines(texts), replaced: at >= 0 }
}

/**
 * Removes `username`'s line from a password file's text, keeping every other line. `removed` is
 * false (and the text unchanged) when the file has no such user. Throws PasswordFileError.
 */
export function removePasswordFileUser (text: string, file: string, username: string): { readonly text: string, readonly removed: boolean } {
  const lines = parsePasswordFileLines(text, file)
  const kept = lines.filter(line => !(line.kind === 'user' && line.username === username))
  return kept.length === lines.length ? { text, removed: false } : { text: joinLines(kept.map(line => line.text)), removed: true }
}

/** Reads and parses `file`; any failure, unreadable file included, is a PasswordFileError. */
export async function readPasswordFile (file: string): Promise<Map<string, PasswordHash>> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    throw new PasswordFileError(file, undefined, `cannot read the file (${code ?? String(error)}); give the path of a Mosquitto password file`)
  }
  return parsePasswordFile(text, file)
}

function joinLines (texts: readonly string[]): string {
  return texts.map(line => `${line}\n`).join('')
}
