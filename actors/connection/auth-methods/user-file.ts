import { readFile } from 'node:fs/promises'

/**
 * What the broker's user files have in common (the SCRAM credentials file, the Mosquitto password
 * file): one user per line, `username:<secret>`, the user name everything before the first `:`
 * and taken exactly as written. Blank lines and lines whose first non-blank character is `#` are
 * ignored; lines may end in CRLF, and a UTF-8 byte order mark is skipped. Each kind of file says
 * how its secret reads and which error it throws; this module does the lines, the user names and
 * the edits, so both files behave alike.
 */

/** C0 controls, DEL and C1 controls: never part of a user name here (a line break would end the line). */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/u

/**
 * A user file that cannot be read or has a bad line. The message names the file, the line and
 * what is wrong, never the secret on it; `problem` is the part after the place.
 */
export class UserFileError extends Error {
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

/** Why `username` cannot be written to a user file, or undefined if it can. */
export function userNameProblem (username: string): string | undefined {
  if (username.length === 0) return 'the user name is empty'
  if (username.includes(':')) return 'a user name cannot contain ":"'
  if (CONTROL.test(username)) return 'a user name cannot contain control characters or line breaks'
  if (username.trim() !== username) return 'a user name cannot start or end with white space'
  if (username.startsWith('#')) return 'a user name cannot start with "#" (the line would be a comment)'
  return undefined
}

/** One kind of user file: how its secrets read, and the error it throws. */
export interface UserFileFormat<T> {
  /** The typed error of this kind of file. */
  error (file: string, line: number | undefined, problem: string): UserFileError
  usernameProblem (username: string): string | undefined
  /** What a line without a colon is told it should look like. */
  readonly expected: string
  /** What to give the broker when the file cannot be read ("a SCRAM credentials file"). */
  readonly what: string
  /** Reads the text after the colon; `fail` throws with the problem (it must not repeat the secret). */
  parseSecret (secret: string, fail: (problem: string) => never): T
}

/** One line of a user file, as `parseUserFileLines` sees it. */
export type UserFileLine<T> =
  | { readonly kind: 'ignored', readonly text: string }
  | { readonly kind: 'user', readonly text: string, readonly username: string, readonly secret: T }

/**
 * Every line of a user file, each with its text (without the line break, a CR before it kept),
 * checked. Throws the format's error at the first bad line or repeated user.
 */
export function parseUserFileLines<T> (text: string, file: string, format: UserFileFormat<T>): Array<UserFileLine<T>> {
  const lines = text.replace(/^\uFEFF/u, '').split('\n')
  if (lines.at(-1) === '') lines.pop()
  const seen = new Map<string, number>()
  return lines.map((line, index) => {
    const number = index + 1
    const content = line.endsWith('\r') ? line.slice(0, -1) : line
    if (content.trim().length === 0 || content.trimStart().startsWith('#')) return { kind: 'ignored', text: line }
    const fail = (problem: string): never => { throw format.error(file, number, problem) }
    const colon = content.indexOf(':')
    // Nothing of a line without a colon is repeated: it may be a password pasted by mistake.
    if (colon < 0) fail(`no ":" after the user name; ${format.expected}`)
    const username = content.slice(0, colon)
    const problem = format.usernameProblem(username)
    if (problem !== undefined) fail(problem)
    const who = `user ${JSON.stringify(username)}`
    const secret = format.parseSecret(content.slice(colon + 1), problem => fail(`${who}: ${problem}`))
    const first = seen.get(username)
    if (first !== undefined) fail(`${who} is already on line ${first}; give each user one line`)
    seen.set(username, number)
    return { kind: 'user', text: line, username, secret }
  })
}

/** The users of a user file's text, in file order. Throws the format's error. */
export function parseUserFile<T> (text: string, file: string, format: UserFileFormat<T>): Map<string, T> {
  const users = new Map<string, T>()
  for (const line of parseUserFileLines(text, file, format)) if (line.kind === 'user') users.set(line.username, line.secret)
  return users
}

/** Checks that `username` can go into a file of `format`; RangeError otherwise. */
export function checkUserName (username: string, format: UserFileFormat<unknown>): void {
  const problem = format.usernameProblem(username)
  if (problem !== undefined) throw new RangeError(`${problem}: ${JSON.stringify(username)}`)
}

/**
 * Sets `username`'s line (`entry`, already formatted) in a user file's text: replaced where it
 * is, or added at the end; every other line, comments included, stays as it was. The text must
 * parse (the format's error otherwise: an edit never hides a broken file).
 */
export function setUserFileLine<T> (text: string, file: string, format: UserFileFormat<T>, username: string, entry: string): { readonly text: string, readonly replaced: boolean } {
  const lines = parseUserFileLines(text, file, format)
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
 * Removes `username`'s line from a user file's text, keeping every other line. `removed` is
 * false (and the text unchanged) when the file has no such user.
 */
export function removeUserFileLine<T> (text: string, file: string, format: UserFileFormat<T>, username: string): { readonly text: string, readonly removed: boolean } {
  const lines = parseUserFileLines(text, file, format)
  const kept = lines.filter(line => !(line.kind === 'user' && line.username === username))
  return kept.length === lines.length ? { text, removed: false } : { text: joinLines(kept.map(line => line.text)), removed: true }
}

/** Reads and parses a user file; any failure, unreadable file included, is the format's error. */
export async function readUserFile<T> (file: string, format: UserFileFormat<T>): Promise<Map<string, T>> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    throw format.error(file, undefined, `cannot read the file (${code ?? String(error)}); give the path of ${format.what}`)
  }
  return parseUserFile(text, file, format)
}

function joinLines (texts: readonly string[]): string {
  return texts.map(line => `${line}\n`).join('')
}
