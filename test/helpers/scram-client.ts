import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto'
import * as assert from 'uvu/assert'

/** A SCRAM-SHA-256 client written from RFC 5802 section 3, independent of the server module. */
export class ScramClient {
  readonly clientNonce: string
  readonly gs2Header: string
  #clientFirstBare = ''
  #expectedServerSignature: Buffer | undefined

  constructor (readonly username: string, readonly password: string, options: { nonce?: string, gs2Header?: string } = {}) {
    this.clientNonce = options.nonce ?? randomBytes(18).toString('base64')
    this.gs2Header = options.gs2Header ?? 'n,,'
  }

  clientFirst (): Buffer {
    const escaped = this.username.replace(/=/g, '=3D').replace(/,/g, '=2C')
    this.#clientFirstBare = `n=${escaped},r=${this.clientNonce}`
    return Buffer.from(this.gs2Header + this.#clientFirstBare)
  }

  /** client-final for a server-first; `tamper` edits the attributes before the proof is computed. */
  clientFinal (serverFirst: Buffer, tamper: { nonce?: string, channelBinding?: string } = {}): Buffer {
    const text = serverFirst.toString()
    const attributes = new Map(text.split(',').map(field => [field.slice(0, 1), field.slice(2)]))
    const nonce = attributes.get('r') ?? ''
    assert.ok(nonce.startsWith(this.clientNonce), 'server nonce extends the client nonce')
    assert.ok(nonce.length > this.clientNonce.length, 'server added its own nonce')
    const salt = Buffer.from(attributes.get('s') ?? '', 'base64')
    const iterations = Number(attributes.get('i'))
    const saltedPassword = pbkdf2Sync(this.password, salt, iterations, 32, 'sha256')
    const clientKey = hmac(saltedPassword, 'Client Key')
    const storedKey = createHash('sha256').update(clientKey).digest()
    const withoutProof = `c=${tamper.channelBinding ?? Buffer.from(this.gs2Header).toString('base64')},r=${tamper.nonce ?? nonce}`
    const authMessage = `${this.#clientFirstBare},${text},${withoutProof}`
    const clientSignature = hmac(storedKey, authMessage)
    const proof = Buffer.from(clientKey.map((byte, i) => byte ^ (clientSignature[i] ?? 0)))
    this.#expectedServerSignature = hmac(hmac(saltedPassword, 'Server Key'), authMessage)
    return Buffer.from(`${withoutProof},p=${proof.toString('base64')}`)
  }

  /** Whether server-final proves the server knows the user's ServerKey. */
  verifiesServerFinal (serverFinal: Buffer | undefined): boolean {
    return serverFinal !== undefined && this.#expectedServerSignature !== undefined &&
      serverFinal.toString() === `v=${this.#expectedServerSignature.toString('base64')}`
  }
}

function hmac (key: Buffer, text: string): Buffer {
  return createHmac('sha256', key).update(text).digest()
}
