import { verify as verifyArgon2 } from 'argon2'
import { createHash, pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto'
import { promisify } from 'node:util'

/**
 * One password hash of a Mosquitto password file, in one of the forms Mosquitto reads:
 *
 *   $7$<iterations>$<base64 salt>$<base64 hash>   PBKDF2-HMAC-SHA512 (mosquitto_passwd 2.x)
 *   $6$<base64 salt>$<base64 hash>                SHA-512 of the password then the salt (1.x)
 *   $argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt>$<hash>
 *                                                 argon2id in libargon2's encoded form
 *                                                 (mosquitto_passwd -H argon2id, Mosquitto 2.1)
 *
 * The first two hashes are 64 bytes (a SHA-512 output). Mosquitto reads the iteration count
 * from the line, so a `$7$` line with more iterations than mosquitto_passwd's 101 stays valid.
 */
export type PasswordHash =
  | { readonly kind: 'pbkdf2-sha512', readonly iterations: number, readonly salt: Buffer, readonly hash: Buffer }
  | { readonly kind: 'sha512', readonly salt: Buffer, readonly hash: Buffer }
  | { readonly kind: 'argon2id', readonly memoryKiB: number, readonly passes: number, readonly lanes: number, readonly salt: Buffer, readonly hash: Buffer }

export const HASH_LENGTH = 64
/** OWASP's 2023 figure for PBKDF2-HMAC-SHA512; mosquitto_passwd's 101 is far too few for today's GPUs. */
export const DEFAULT_PBKDF2_ITERATIONS = 210_000
/** What mosquitto_passwd uses, so a file written here reads the same in Mosquitto. */
export const SALT_LENGTH = 12
const MAX_ITERATIONS = 0x7fffffff
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/
export const PASSWORD_HASH_FORMAT = 'expected $7$<iterations>$<base64 salt>$<base64 hash>, $6$<base64 salt>$<base64 hash> or $argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt>$<hash>'
/** libargon2's encoded form, version 1.3 (19), salt and hash in base64 without padding. */
const ARGON2ID = /^\$argon2id\$v=19\$m=([1-9][0-9]{0,7}),t=([1-9][0-9]{0,3}),p=([1-9][0-9]{0,2})\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/
/** 4 GiB: more memory per login than any sane setting, and a bound for a file's typo. */
const MAX_ARGON2_MEMORY_KIB = 4 * 1024 * 1024

const pbkdf2Async = promisify(pbkdf2)

/**
 * Reads the hash part of a line, or says what is wrong with it. The problem never quotes the
 * text: it may be a plain password, or hash material that should not reach a log.
 */
export function parsePasswordHash (text: string): PasswordHash | { readonly problem: string } {
  if (text.startsWith('$argon2id$')) return parseArgon2id(text)
  const parts = text.split('$')
  // A hash starts with "$", so the first part is empty.
  if (parts[0] !== '' || (parts[1] !== '6' && parts[1] !== '7')) {
    return { problem: `the password is not hashed, or not in a form Mosquitto writes (hash it with "troupe passwd" or "mosquitto_passwd -U"); ${PASSWORD_HASH_FORMAT}` }
  }
  if (parts[1] === '6') {
    if (parts.length !== 4) return { problem: `a "$6$" hash has two "$"-separated parts after "$6$", <salt> and <hash>; ${PASSWORD_HASH_FORMAT}` }
    const material = saltAndHash(parts[2]!, parts[3]!)
    return 'problem' in material ? material : { kind: 'sha512', ...material }
  }
  if (parts.length !== 5) return { problem: `a "$7$" hash has three "$"-separated parts after "$7$", <iterations>, <salt> and <hash>; ${PASSWORD_HASH_FORMAT}` }
  const iterations = /^[1-9][0-9]{0,9}$/.test(parts[2]!) ? Number(parts[2]) : Number.NaN
  if (!(iterations <= MAX_ITERATIONS)) return { problem: `the iteration count is not a whole number from 1 to ${MAX_ITERATIONS}` }
  const material = saltAndHash(parts[3]!, parts[4]!)
  return 'problem' in material ? material : { kind: 'pbkdf2-sha512', iterations, ...material }
}

function parseArgon2id (text: string): PasswordHash | { readonly problem: string } {
  const match = ARGON2ID.exec(text)
  if (match === null) return { problem: 'an argon2id hash is not in libargon2\'s encoded form $argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<base64 salt>$<base64 hash>' }
  const [memoryKiB, passes, lanes] = [Number(match[1]), Number(match[2]), Number(match[3])]
  if (memoryKiB > MAX_ARGON2_MEMORY_KIB || memoryKiB < 8 * lanes) return { problem: `the argon2id memory m is not from 8 KiB per lane to ${MAX_ARGON2_MEMORY_KIB} KiB` }
  const salt = Buffer.from(match[4]!, 'base64')
  const hash = Buffer.from(match[5]!, 'base64')
  if (salt.length < 8 || hash.length < 4) return { problem: 'the argon2id salt is shorter than 8 bytes or the hash shorter than 4' }
  return { kind: 'argon2id', memoryKiB, passes, lanes, salt, hash }
}

/** The text Mosquitto and this broker read back as `hash` (the part after "user:"). */
export function formatPasswordHash (hash: PasswordHash): string {
  if (hash.kind === 'argon2id') return `$argon2id$v=19$m=${hash.memoryKiB},t=${hash.passes},p=${hash.lanes}$${unpadded(hash.salt)}$${unpadded(hash.hash)}`
  const material = `${hash.salt.toString('base64')}$${hash.hash.toString('base64')}`
  return hash.kind === 'sha512' ? `$6$${material}` : `$7$${hash.iterations}$${material}`
}

function unpadded (bytes: Buffer): string {
  return bytes.toString('base64').replace(/=+$/, '')
}

/** A new `$7$` hash of `password` with a fresh random salt. */
export async function hashPassword (password: Buffer, iterations = DEFAULT_PBKDF2_ITERATIONS): Promise<PasswordHash> {
  if (!Number.isInteger(iterations) || iterations < 1 || iterations > MAX_ITERATIONS) throw new RangeError(`PBKDF2 iterations must be from 1 to ${MAX_ITERATIONS}, not ${iterations}`)
  const salt = randomBytes(SALT_LENGTH)
  return { kind: 'pbkdf2-sha512', iterations, salt, hash: await derive(password, { kind: 'pbkdf2-sha512', iterations, salt }) }
}

/**
 * Whether `password` matches `expected`. The derivation runs on libuv's thread pool (PBKDF2 can
 * take a tenth of a second) and the comparison takes the same time wherever the bytes differ.
 */
export async function passwordMatches (password: Buffer, expected: PasswordHash): Promise<boolean> {
  // libargon2 derives on the thread pool too, and compares in constant time itself.
  if (expected.kind === 'argon2id') return await verifyArgon2(formatPasswordHash(expected), password)
  const derived = await derive(password, expected)
  return timingSafeEqual(derived, expected.hash)
}

/**
 * A hash no password matches (random bytes), with the same cost as `like` (or as a new `$7$`
 * hash): stands in for a user who is not there, so that checking one takes as long.
 */
export function decoyLike (like?: PasswordHash): PasswordHash {
  const salt = randomBytes(like?.salt.length ?? SALT_LENGTH)
  const hash = randomBytes(like?.hash.length ?? HASH_LENGTH)
  if (like === undefined) return { kind: 'pbkdf2-sha512', iterations: DEFAULT_PBKDF2_ITERATIONS, salt, hash }
  return { ...like, salt, hash }
}

/** What a hash costs to check: hashes with the same cost take as long. */
export function costOf (hash: PasswordHash): string {
  switch (hash.kind) {
    case 'sha512': return 'sha512'
    case 'pbkdf2-sha512': return `pbkdf2-sha512:${hash.iterations}`
    case 'argon2id': return `argon2id:${hash.memoryKiB}:${hash.passes}:${hash.lanes}`
  }
}

type HashParameters =
  | { readonly kind: 'pbkdf2-sha512', readonly iterations: number, readonly salt: Buffer }
  | { readonly kind: 'sha512', readonly salt: Buffer }

async function derive (password: Buffer, parameters: HashParameters): Promise<Buffer> {
  if (parameters.kind === 'sha512') return createHash('sha512').update(password).update(parameters.salt).digest()
  return await pbkdf2Async(password, parameters.salt, parameters.iterations, HASH_LENGTH, 'sha512')
}

function saltAndHash (saltText: string, hashText: string): { salt: Buffer, hash: Buffer } | { problem: string } {
  const salt = base64(saltText)
  if (salt === undefined || salt.length === 0) return { problem: 'the salt is not non-empty base64' }
  const hash = base64(hashText)
  if (hash?.length !== HASH_LENGTH) return { problem: `the hash is not base64 of ${HASH_LENGTH} bytes` }
  return { salt, hash }
}

/** Strict (padded, no white space) base64, as mosquitto_passwd writes it, or undefined. */
function base64 (text: string): Buffer | undefined {
  return BASE64.test(text) ? Buffer.from(text, 'base64') : undefined
}
