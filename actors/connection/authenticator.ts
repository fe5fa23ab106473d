import type { ProtocolCapabilities } from './protocol/protocol-version.js'

/** What the broker knows of a client when it decides whether to let it in. */
export interface AuthenticationRequest {
  readonly clientId: string
  readonly username: string | undefined
  readonly password: Buffer | undefined
  readonly remoteAddress: string
  readonly protocol: ProtocolCapabilities
  /**
   * Set when the listener verified the client's certificate and took its name as the user
   * name (useIdentityAsUsername): the certificate already proved who the client is.
   */
  readonly certifiedIdentity?: string
}

/** Let the client in, or refuse it with a v5 reason code (mapped to a v3 return code on the wire). */
export type AuthenticationVerdict =
  | { readonly allowed: true }
  | { readonly allowed: false, readonly reasonCode: number }

/** Decides who may connect. Security providers implement this; the default lets everyone in. */
export interface Authenticator {
  authenticate (request: AuthenticationRequest): Promise<AuthenticationVerdict>
  /** True when every client is let in without looking: connections then skip authentication. */
  readonly allowsEveryone?: boolean
}

export const allowAnonymous: Authenticator = {
  authenticate: async () => ({ allowed: true }),
  allowsEveryone: true
}
