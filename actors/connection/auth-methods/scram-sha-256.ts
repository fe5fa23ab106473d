import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import { ReasonCode } from '../protocol/reason-codes.js'
import type { AuthContext, AuthExchange, AuthMethod, AuthStep } from './auth-method.js'
import {
  DEFAULT_SCRAM_ITERATIONS,
  DEFAULT_SCRAM_SALT_LENGTH,
  fakeScramCredentials,
  type ScramCredentials,
  type ScramCredentialStore
} from './scram-credentials.js'

/**
 * SCRAM-SHA-256 (RFC 5802, RFC 7677) as an MQTT 5 enhanced authentication method, server side,
 * without channel binding:
 *
 *   client-first  n,,n=<user>,r=<client nonce>                      CONNECT / AUTH 0x19
 *   server-first  r=<client nonce><server nonce>,s=<salt>,i=<n>     AUTH 0x18   (continue)
 *   client-final  c=biws,r=<both nonces>,p=<ClientProof>            AUTH 0x18
 *   server-final  v=<ServerSignature>                               CONNACK 0 / AUTH 0x00 (success)
 *
 * The server keeps only StoredKey and ServerKey (see scram-credentials.ts) and never sees the
 * password. An unknown user gets a fake but stable salt and fails at the final step exactly as a
 * known user with a wrong password does.
 */
export const SCRAM_SHA_256 = 'SCRAM-SHA-256'

export interface ScramSha256Options {
  /** Bytes of randomness in the server's part of the nonce (sent base64 encoded); 18 by default. */
  readonly nonceLength?: number
  /**
   * Makes the server's part of the nonce instead of `nonceLength` random bytes, e.g. to replay a
   * test vector. It must be printable ASCII without ','; never make it predictable in production.
   */
  readonly nonce?: () => string
  /**
   * The key fake salts for unknown users are derived from. Random per instance by default; give
   * a stable one (from configuration) so an unknown name keeps its salt across broker restarts,
   * as a real user's does.
   */
  readonly secret?: Buffer | string
  /** Iterations fake credentials show: make it what the store's users have. 4096 by default. */
  readonly fakeIterations?: number
  /** Salt length of fake credentials: make it what the store's users have. 16 by default. */
  readonly fakeSaltLength?: number
}

/** Longest client message accepted, in bytes; real ones are well under 1 KiB. */
export const MAX_SCRAM_MESSAGE_LENGTH = 16 * 1024

/** Server nonces and client nonces: printable ASCII except ',' (RFC 5802 section 7). */
const NONCE = /^[\x21-\x2b\x2d-\x7e]+$/
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/
/** An extension attribute: one letter, '=', a non-empty value (',' is already split off). */
const EXTENSION = /^[A-Za-z]=.+$/su

export class ScramSha256 implements AuthMethod {
  readonly name = SCRAM_SHA_256
  readonly #store: ScramCredentialStore
  readonly #secret: Buffer
  readonly #nonce: () => string
  readonly #fakeIterations: number
  readonly #fakeSaltLength: number

  constructor (store: ScramCredentialStore, options: ScramSha256Options = {}) {
    this.#store = store
    const secret = options.secret ?? randomBytes(32)
    this.#secret = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : Buffer.from(secret)
    if (this.#secret.length === 0) throw new RangeError('the SCRAM server secret must not be empty')
    const nonceLength = options.nonceLength ?? 18
    if (!Number.isInteger(nonceLength) || nonceLength < 8 || nonceLength > 1024) {
      throw new RangeError(`the SCRAM nonce length must be 8 to 1024 bytes, not ${nonceLength}`)
    }
    this.#nonce = options.nonce ?? (() => randomBytes(nonceLength).toString('base64'))
    this.#fakeIterations = options.fakeIterations ?? DEFAULT_SCRAM_ITERATIONS
    this.#fakeSaltLength = options.fakeSaltLength ?? DEFAULT_SCRAM_SALT_LENGTH
    if (!Number.isInteger(this.#fakeIterations) || this.#fakeIterations < 1) throw new RangeError('fakeIterations must be a positive integer')
    if (!Number.isInteger(this.#fakeSaltLength) || this.#fakeSaltLength < 1) throw new RangeError('fakeSaltLength must be a positive integer')
  }

  start (_context: AuthContext): AuthExchange {
    return new ScramSha256Exchange({
      lookup: async username => await this.#store.lookup(username),
      fake: username => fakeScramCredentials(this.#secret, username, this.#fakeIterations, this.#fakeSaltLength),
      serverNonce: () => this.#nonce()
    })
  }
}

/** What an exchange needs from its method. */
interface ExchangeServices {
  lookup (username: string): Promise<ScramCredentials | undefined>
  fake (username: string): ScramCredentials
  serverNonce (): string
}

/** What the server remembers between server-first and client-final. */
interface AwaitedProof {
  readonly username: string
  /** "n,," or "n,a=<authzid>,": client-final's c= must be its base64. */
  readonly gs2Header: string
  readonly clientFirstBare: string
  readonly serverFirst: string
  /** Client nonce + server nonce: client-final's r= must be exactly this. */
  readonly nonce: string
  readonly credentials: ScramCredentials
  /** False when `credentials` are fakes for an unknown user: the proof then never passes. */
  readonly known: boolean
}

/**
 * One exchange:
 *
 *   ┌───────────────────────┐  client-first ok   ┌───────────────────────┐  client-final ok   ┌──────┐
 *   │ awaiting-client-first │ ─────────────────▶ │ awaiting-client-final │ ─────────────────▶ │ done │
 *   └───────────────────────┘  → continue with   └───────────────────────┘  → success with    └──────┘
 *               │                server-first                │                server-final      ▲
 *               └──── malformed, refused, bad proof, store error: failure ───┴──────────────────┘
 *
 * Between a step's start and its answer the exchange is `working` (client-first waits there for
 * the credential store).
 * In `done`, or while `working`, any step fails with 0x82 Protocol Error (and a step arriving
 * while `working` ends the exchange, so the step being worked on fails too).
 */
type ExchangeState =
  | { readonly phase: 'awaiting-client-first' }
  | { readonly phase: 'working' }
  | { readonly phase: 'awaiting-client-final', readonly awaited: AwaitedProof }
  | { readonly phase: 'done' }

class ScramSha256Exchange implements AuthExchange {
  #state: ExchangeState = { phase: 'awaiting-client-first' }

  constructor (private readonly services: ExchangeServices) {}

  async step (data: Buffer | undefined): Promise<AuthStep> {
    const state = this.#state
    const working: ExchangeState = { phase: 'working' }
    this.#state = working
    try {
      switch (state.phase) {
        case 'awaiting-client-first': {
          const first = parseClientFirst(messageText(data, 'client-first-message'))
          const awaited = await this.#answerClientFirst(first)
          if (this.#state !== working) throw new Refusal(ReasonCode.ProtocolError, 'another step arrived while client-first-message was being handled')
          this.#state = { phase: 'awaiting-client-final', awaited }
          return { kind: 'continue', data: Buffer.from(awaited.serverFirst, 'utf8') }
        }
        case 'awaiting-client-final': {
          const serverFinal = checkClientFinal(state.awaited, messageText(data, 'client-final-message'))
          this.#state = { phase: 'done' }
          return { kind: 'success', data: Buffer.from(serverFinal, 'utf8'), username: state.awaited.username }
        }
        case 'working':
          throw new Refusal(ReasonCode.ProtocolError, 'a step arrived while the previous one was still being handled')
        case 'done':
          throw new Refusal(ReasonCode.ProtocolError, 'the SCRAM exchange is already over; a new one needs a new start (re-authentication)')
      }
    } catch (error) {
      this.#state = { phase: 'done' }
      if (error instanceof Refusal) return { kind: 'failure', reasonCode: error.reasonCode, detail: error.detail }
      return { kind: 'failure', reasonCode: ReasonCode.UnspecifiedError, detail: `SCRAM-SHA-256 failed inside the server: ${errorMessage(error)}` }
    }
  }

  async #answerClientFirst (first: ClientFirst): Promise<AwaitedProof> {
    let stored: ScramCredentials | undefined
    try {
      stored = await this.services.lookup(first.username)
    } catch (error) {
      throw new Refusal(ReasonCode.UnspecifiedError, `the credential store could not look up ${quote(first.username)}: ${errorMessage(error)}`)
    }
    // Made for every user, known or not, so that both cost the same.
    const fake = this.services.fake(first.username)
    const serverNonce = this.services.serverNonce()
    if (!NONCE.test(serverNonce)) throw new Error('the server nonce generator gave an empty nonce or one with characters outside printable ASCII or with a comma')
    const credentials = stored ?? fake
    const nonce = first.clientNonce + serverNonce
    return {
      username: first.username,
      gs2Header: first.gs2Header,
      clientFirstBare: first.bare,
      serverFirst: `r=${nonce},s=${credentials.salt.toString('base64')},i=${credentials.iterations}`,
      nonce,
      credentials,
      known: stored !== undefined
    }
  }
}

/** A refusal the exchange answers with; its detail goes to logs and never holds a secret. */
class Refusal extends Error {
  constructor (readonly reasonCode: number, readonly detail: string) {
    super(detail)
  }
}

const malformed = (detail: string): Refusal => new Refusal(ReasonCode.MalformedPacket, detail)

interface ClientFirst {
  readonly gs2Header: string
  readonly bare: string
  readonly username: string
  readonly clientNonce: string
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/** The Authentication Data as the text of one SCRAM message. */
function messageText (data: Buffer | undefined, what: string): string {
  if (data === undefined || data.length === 0) throw malformed(`${what} is missing: the Authentication Data is absent or empty`)
  if (data.length > MAX_SCRAM_MESSAGE_LENGTH) throw malformed(`${what} is ${data.length} bytes, more than the ${MAX_SCRAM_MESSAGE_LENGTH} accepted`)
  try {
    return utf8.decode(data)
  } catch {
    throw malformed(`${what} is not valid UTF-8`)
  }
}

/**
 * client-first-message = gs2-header client-first-message-bare
 * gs2-header = gs2-cbind-flag "," [ "a=" saslname ] ","
 * client-first-message-bare = [ "m=" ext "," ] "n=" saslname "," "r=" c-nonce [ "," extensions ]
 */
function parseClientFirst (text: string): ClientFirst {
  const flagEnd = text.indexOf(',')
  const authzidEnd = flagEnd < 0 ? -1 : text.indexOf(',', flagEnd + 1)
  if (authzidEnd < 0) throw malformed('client-first-message has no gs2 header: it must start "n,," as in "n,,n=<user>,r=<nonce>"')
  const flag = text.slice(0, flagEnd)
  if (flag === 'y') {
    throw new Refusal(ReasonCode.BadAuthenticationMethod, 'client-first-message has channel-binding flag "y"; this server runs SCRAM-SHA-256 without channel binding and accepts only flag "n"')
  }
  if (flag.startsWith('p=')) {
    throw new Refusal(ReasonCode.BadAuthenticationMethod, `client-first-message asks for channel binding ${quote(flag.slice(2))}, which this server does not offer (flag must be "n")`)
  }
  if (flag !== 'n') throw malformed(`client-first-message has gs2 channel-binding flag ${quote(flag)}; expected "n"`)

  const authzidField = text.slice(flagEnd + 1, authzidEnd)
  let authzid: string | undefined
  if (authzidField !== '') {
    if (!authzidField.startsWith('a=')) throw malformed(`the gs2 header's second field must be empty or "a=<authzid>", not ${quote(authzidField)}`)
    authzid = saslname(authzidField.slice(2), 'authorization identity a=')
  }

  const bare = text.slice(authzidEnd + 1)
  const [userField, nonceField, ...extensions] = bare.split(',')
  if (userField?.startsWith('m=') === true) {
    throw new Refusal(ReasonCode.BadAuthenticationMethod, 'client-first-message requires a mandatory extension (m=), and this server supports none')
  }
  const username = saslname(attribute(userField, 'n', 'user name', 'client-first-message'), 'user name n=')
  const clientNonce = attribute(nonceField, 'r', 'nonce', 'client-first-message')
  if (!NONCE.test(clientNonce)) throw malformed('the client nonce r= has characters outside printable ASCII (or a comma)')
  checkExtensions(extensions, 'client-first-message')
  if (authzid !== undefined && authzid !== username) {
    throw new Refusal(ReasonCode.NotAuthorized, `authorization identity ${quote(authzid)} is not the user name ${quote(username)}; acting as another user is not supported`)
  }
  return { gs2Header: text.slice(0, authzidEnd + 1), bare, username, clientNonce }
}

/**
 * client-final-message = "c=" base64(gs2-header) "," "r=" nonce [ "," extensions ] "," "p=" base64(proof)
 * Checks it against what server-first promised and returns server-final-message.
 */
function checkClientFinal (awaited: AwaitedProof, text: string): string {
  const fields = text.split(',')
  if (fields.length < 3) throw malformed('client-final-message must have c=, r= and p= attributes, as in "c=biws,r=<nonce>,p=<proof>"')
  const channelBinding = base64(attribute(fields[0], 'c', 'channel binding', 'client-final-message'), 'channel binding c=')
  const nonce = attribute(fields[1], 'r', 'nonce', 'client-final-message')
  const proof = base64(attribute(fields[fields.length - 1], 'p', 'proof', 'client-final-message (as its last attribute)'), 'proof p=')
  checkExtensions(fields.slice(2, -1), 'client-final-message')
  if (!channelBinding.equals(Buffer.from(awaited.gs2Header, 'utf8'))) {
    throw malformed(`channel binding c= must be the base64 of the gs2 header ${quote(awaited.gs2Header)} of client-first-message`)
  }
  if (nonce !== awaited.nonce) throw malformed('nonce r= of client-final-message is not the nonce of server-first-message (client nonce + server nonce)')
  if (proof.length !== 32) throw malformed(`proof p= is ${proof.length} bytes; SHA-256 proofs are 32`)

  // Same work and same answer whether the user exists or not.
  const { credentials } = awaited
  const authMessage = `${awaited.clientFirstBare},${awaited.serverFirst},${fields.slice(0, -1).join(',')}`
  const clientSignature = hmac(credentials.storedKey, authMessage)
  const clientKey = Buffer.alloc(32)
  for (let i = 0; i < 32; i++) clientKey[i] = (proof[i] ?? 0) ^ (clientSignature[i] ?? 0)
  const proven = timingSafeEqual(createHash('sha256').update(clientKey).digest(), credentials.storedKey)
  if (!proven || !awaited.known) {
    throw new Refusal(ReasonCode.BadUserNameOrPassword, `the client proof for ${quote(awaited.username)} is wrong (bad user name or password)`)
  }
  return `v=${hmac(credentials.serverKey, authMessage).toString('base64')}`
}

/** The value of `name=value`, which must be the field found at this place. */
function attribute (field: string | undefined, name: string, what: string, where: string): string {
  if (field === undefined || field === '') throw malformed(`${where} has no ${what} attribute ${name}=`)
  if (!field.startsWith(`${name}=`)) throw malformed(`${where} must have its ${what} attribute ${name}= here, not ${quote(field)}`)
  const value = field.slice(name.length + 1)
  if (value === '') throw malformed(`the ${what} attribute ${name}= of ${where} is empty`)
  return value
}

/** Optional extensions (RFC 5802 section 7): unknown ones are ignored, but must be well formed. */
function checkExtensions (fields: readonly string[], where: string): void {
  for (const field of fields) {
    if (!EXTENSION.test(field)) throw malformed(`${where} has a field ${quote(field)} that is not an attribute "<letter>=<value>"`)
  }
}

/** A saslname with "=2C" for ',' and "=3D" for '=' (RFC 5802 section 5.1), un-escaped. */
function saslname (value: string, what: string): string {
  if (/=(?!2C|3D)/u.test(value)) throw malformed(`${what} has a '=' that is not part of an escape; ',' must be sent as =2C and '=' as =3D`)
  if (value.includes('\0')) throw malformed(`${what} contains a NUL character`)
  return value.replace(/=2C|=3D/gu, escape => escape === '=2C' ? ',' : '=')
}

/** Strict base64: standard alphabet, padded, nothing else. */
function base64 (value: string, what: string): Buffer {
  if (!BASE64.test(value)) throw malformed(`${what} is not valid base64`)
  return Buffer.from(value, 'base64')
}

function hmac (key: Buffer, text: string): Buffer {
  return createHmac('sha256', key).update(text, 'utf8').digest()
}

/** A client-given string for a detail: JSON-quoted (no log injection) and cut short. */
function quote (text: string): string {
  return JSON.stringify(text.length > 64 ? `${text.slice(0, 64)}…` : text)
}

function errorMessage (error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
