import { createHash } from 'node:crypto'
import type { AuthenticationRequest, AuthenticationVerdict, Authenticator } from '../../../actors/connection/authenticator.js'
import { ReasonCode } from '../../../actors/connection/protocol/reason-codes.js'
import type { ProviderLink } from './provider-link.js'

/**
 * Who may connect, asked of the auth providers in order: the first that allows or denies
 * decides; when all ignore the client, `fallback` (password file, allow-anonymous) does. A
 * provider that fails refuses the client with 0x88 Server unavailable (v3 return code 3), so
 * the client retries later rather than being told its password is wrong.
 */
export class ProviderAuthenticator implements Authenticator {
  private readonly links: readonly ProviderLink[]

  constructor (links: readonly ProviderLink[], private readonly fallback: Authenticator) {
    this.links = links.filter(link => link.answers('authenticate'))
  }

  async authenticate (request: AuthenticationRequest): Promise<AuthenticationVerdict> {
    const providerRequest = {
      clientId: request.clientId,
      username: request.username,
      password: request.password,
      address: request.remoteAddress,
      protocolVersion: request.protocol.level
    }
    // The password only as a digest: the cache must not hold it.
    const key = [request.clientId, request.username ?? '\u0001', request.password === undefined ? '' : createHash('sha256').update(request.password).digest('base64'), hostOf(request.remoteAddress)].join('\0')
    for (const link of this.links) {
      const answer = await link.authenticate(providerRequest, key)
      if (answer === 'allow') return { allowed: true }
      if (answer === 'failed') return { allowed: false, reasonCode: ReasonCode.ServerUnavailable }
      if (answer === 'deny') {
        const credentialsGiven = request.username !== undefined || request.password !== undefined
        return { allowed: false, reasonCode: credentialsGiven ? ReasonCode.BadUserNameOrPassword : ReasonCode.NotAuthorized }
      }
    }
    return await this.fallback.authenticate(request)
  }
}

/** `host` of `host:port` (IPv6 hosts have colons of their own). */
function hostOf (address: string): string {
  const colon = address.lastIndexOf(':')
  return colon < 0 ? address : address.slice(0, colon)
}
