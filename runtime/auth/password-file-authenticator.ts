import type { AuthenticationRequest, AuthenticationVerdict, Authenticator } from '../../actors/connection/authenticator.js'
import { readPasswordFile } from './password-file.js'
import { costOf, decoyLike, passwordMatches, type PasswordHash } from './password-hash.js'

/** v5 reason codes; the broker maps them to v3 return codes (0x86 → 4, 0x87 → 5). */
const BAD_USER_NAME_OR_PASSWORD = 0x86
const NOT_AUTHORIZED = 0x87

export interface PasswordFileAuthenticatorOptions {
  /** Let clients that send no user name in (Mosquitto's `allow_anonymous true`). Default false. */
  readonly allowAnonymous?: boolean
}

/**
 * Lets in the users of a Mosquitto password file who send their password, like Mosquitto's
 * `password_file`. A wrong password and an unknown user get the same answer (0x86) after the
 * same work: an unknown user's password is checked against a decoy hash with the cost of the
 * file's usual hash, so the time taken does not tell which user names exist. Nothing derived
 * from a client's password is kept once its verdict is given.
 */
export class PasswordFileAuthenticator implements Authenticator {
  /** Every connection is checked, anonymous ones included (they may be refused). */
  readonly allowsEveryone = false
  private readonly allowAnonymous: boolean
  private readonly decoy: PasswordHash

  constructor (private readonly users: ReadonlyMap<string, PasswordHash>, options: PasswordFileAuthenticatorOptions = {}) {
    this.allowAnonymous = options.allowAnonymous ?? false
    this.decoy = decoyLike(mostCommonCost(users.values()))
  }

  /** Reads `file` (a PasswordFileError if it cannot be read or has a bad line). */
  static async fromFile (file: string, options: PasswordFileAuthenticatorOptions = {}): Promise<PasswordFileAuthenticator> {
    return new PasswordFileAuthenticator(await readPasswordFile(file), options)
  }

  async authenticate (request: AuthenticationRequest): Promise<AuthenticationVerdict> {
    if (request.username === undefined) return this.allowAnonymous ? { allowed: true } : { allowed: false, reasonCode: NOT_AUTHORIZED }
    const expected = this.users.get(request.username)
    // A user with no password sent is checked against an empty one: the same work as any other attempt.
    const matches = await passwordMatches(request.password ?? Buffer.alloc(0), expected ?? this.decoy)
    return matches && expected !== undefined ? { allowed: true } : { allowed: false, reasonCode: BAD_USER_NAME_OR_PASSWORD }
  }
}

/** A hash of the cost most of the file's users have, or undefined for an empty file. */
function mostCommonCost (hashes: Iterable<PasswordHash>): PasswordHash | undefined {
  const counts = new Map<string, { hash: PasswordHash, count: number }>()
  for (const hash of hashes) {
    const entry = counts.get(costOf(hash)) ?? { hash, count: 0 }
    entry.count++
    counts.set(costOf(hash), entry)
  }
  let best: { hash: PasswordHash, count: number } | undefined
  for (const entry of counts.values()) if (best === undefined || entry.count > best.count) best = entry
  return best?.hash
}
