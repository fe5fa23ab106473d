import { createHash, createHmac, pbkdf2, randomBytes } from 'node:crypto'
import { promisify } from 'node:util'

const pbkdf2Async = promisify(pbkdf2)

/** Iterations RFC 7677 asks for at least, and the default here. */
export const DEFAULT_SCRAM_ITERATIONS = 4096
/** Bytes of salt a derivation gets unless told otherwise (and the length of fake salts). */
export const DEFAULT_SCRAM_SALT_LENGTH = 16

/**
 * What the server keeps per user for SCRAM-SHA-256 (RFC 5802 section 3): enough to check a
 * client proof and to sign the server-final message, but not the password, nor anything a
 * client could log in with (the ClientKey is not stored, only its hash).
 */
export interface ScramCredentials {
  readonly salt: Buffer
  readonly iterations: number
  /** SHA-256(ClientKey), ClientKey = HMAC(SaltedPassword, "Client Key"). */
  readonly storedKey: Buffer
  /** HMAC(SaltedPassword, "Server Key"). */
  readonly serverKey: Buffer
}

/** Where SCRAM credentials come from: a file, a database, memory... */
export interface ScramCredentialStore {
  /** The credentials of `username` (already un-escaped from its SCRAM form), or undefined if there is no such user. */
  lookup (username: string): Promise<ScramCredentials | undefined>
}

export interface ScramDerivationOptions {
  /** PBKDF2 iterations; 4096 by default (RFC 7677 asks for at least that much). */
  readonly iterations?: number
  /** A fresh random 16-byte salt by default; never share one salt between users. */
  readonly salt?: Buffer
}

/**
 * Derives what the server stores for a password: SaltedPassword = PBKDF2-HMAC-SHA-256(password,
 * salt, iterations), then StoredKey and ServerKey from it. Runs PBKDF2 off the event loop.
 */
export async function scramCredentialsFor (password: string, options: ScramDerivationOptions = {}): Promise<ScramCredentials> {
  const iterations = checkIterations(options.iterations ?? DEFAULT_SCRAM_ITERATIONS)
  const salt = options.salt ?? randomBytes(DEFAULT_SCRAM_SALT_LENGTH)
  if (salt.length === 0) throw new RangeError('a SCRAM salt must not be empty')
  const saltedPassword = await pbkdf2Async(normalisePassword(password), salt, iterations, 32, 'sha256')
  const clientKey = hmac(saltedPassword, 'Client Key')
  return {
    salt: Buffer.from(salt),
    iterations,
    storedKey: createHash('sha256').update(clientKey).digest(),
    serverKey: hmac(saltedPassword, 'Server Key')
  }
}

/**
 * Believable credentials for a user who does not exist, so that the exchange for an unknown user
 * looks like the one for a known user with a wrong password: the server-first message carries a
 * salt that is the same every time for that name (derived from `secret` + username, so it does
 * not change between attempts) and the usual iteration count, and the final step fails as a
 * wrong proof does. No client can match the fake StoredKey: it is an HMAC under the secret.
 */
export function fakeScramCredentials (
  secret: Buffer,
  username: string,
  iterations: number = DEFAULT_SCRAM_ITERATIONS,
  saltLength: number = DEFAULT_SCRAM_SALT_LENGTH
): ScramCredentials {
  const derive = (purpose: string): Buffer => createHmac('sha256', secret).update(`troupe-scram-fake/${purpose}\0`).update(username, 'utf8').digest()
  let salt = derive('salt')
  for (let block = 1; salt.length < saltLength; block++) salt = Buffer.concat([salt, derive(`salt/${block}`)])
  return {
    salt: salt.subarray(0, saltLength),
    iterations,
    storedKey: derive('stored-key'),
    serverKey: derive('server-key')
  }
}

/** A credential store held in memory, from username → password or username → credentials. */
export class InMemoryScramCredentials implements ScramCredentialStore {
  readonly #users = new Map<string, Promise<ScramCredentials>>()

  /**
   * Passwords are derived at once (each with its own random salt, off the event loop) and then
   * forgotten; a lookup of a user whose derivation is still running waits for it.
   */
  constructor (
    users: ReadonlyMap<string, string | ScramCredentials> | Iterable<readonly [string, string | ScramCredentials]>,
    options: { readonly iterations?: number } = {}
  ) {
    const iterations = checkIterations(options.iterations ?? DEFAULT_SCRAM_ITERATIONS)
    for (const [username, secret] of users) {
      const credentials = typeof secret === 'string'
        ? scramCredentialsFor(secret, { iterations })
        : Promise.resolve(checkCredentials(username, secret))
      credentials.catch(() => undefined) // a failure surfaces at lookup, not as an unhandled rejection
      this.#users.set(username, credentials)
    }
  }

  async lookup (username: string): Promise<ScramCredentials | undefined> {
    return await this.#users.get(username)
  }
}

/**
 * The password as RFC 5802 hashes it: SASLprep (RFC 4013) mapping (non-ASCII spaces become
 * U+0020, characters "commonly mapped to nothing" go) then NFKC. SASLprep's prohibited-character
 * and bidi checks are not applied: a password using them is hashed as it is.
 */
export function normalisePassword (password: string): string {
  return password
    .replace(/[\u00AD\u034F\u1806\u180B-\u180D\u200B-\u200D\u2060\uFE00-\uFE0F\uFEFF]/gu, '')
    .replace(/[\u00A0\u1680\u2000-\u200A\u202F\u205F\u3000]/gu, ' ')
    .normalize('NFKC')
}

function hmac (key: Buffer, text: string): Buffer {
  return createHmac('sha256', key).update(text, 'utf8').digest()
}

function checkIterations (iterations: number): number {
  if (!Number.isInteger(iterations) || iterations < 1 || iterations > 0x7fffffff) {
    throw new RangeError(`SCRAM iterations must be a positive integer, not ${iterations}`)
  }
  return iterations
}

function checkCredentials (username: string, credentials: ScramCredentials): ScramCredentials {
  checkIterations(credentials.iterations)
  if (credentials.salt.length === 0 || credentials.storedKey.length !== 32 || credentials.serverKey.length !== 32) {
    throw new RangeError(`SCRAM-SHA-256 credentials of ${JSON.stringify(username)} need a salt and 32-byte stored and server keys`)
  }
  return credentials
}
