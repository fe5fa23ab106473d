import type { QoS } from 'mqtt-packet'

/**
 * An auth provider's answer: let the client do it, refuse, or have no opinion and leave the
 * decision to the next provider in the chain (and in the end to the password file, ACL and
 * allow-anonymous settings). Returning undefined is the same as 'ignore'.
 */
export type AuthDecision = 'allow' | 'deny' | 'ignore'

/** The client a request is about. */
export interface ProviderClient {
  readonly clientId: string
  /** The CONNECT user name (or the verified certificate identity); undefined when none was given. */
  readonly username: string | undefined
}

/** A client is connecting. */
export interface ProviderAuthenticateRequest extends ProviderClient {
  /** The CONNECT password, as sent; never log it. */
  readonly password: Buffer | undefined
  /** `host:port` of the client (behind a load balancer with the PROXY protocol, the real one). */
  readonly address: string
  /** 3 (MQTT 3.1), 4 (3.1.1) or 5. */
  readonly protocolVersion: 3 | 4 | 5
}

/** A connected client publishes (or leaves a will) on `topic`. */
export interface ProviderPublishRequest extends ProviderClient {
  readonly topic: string
  readonly qos: QoS
  readonly retain: boolean
}

/** A connected client subscribes to `filter` (for `$share/{group}/{filter}`, the part after the group). */
export interface ProviderSubscribeRequest extends ProviderClient {
  readonly filter: string
}

/**
 * What an auth provider module exports (all optional, but at least one of the three checks):
 *
 * ```ts
 * // my-auth.ts
 * import type { AuthDecision, ProviderAuthenticateRequest } from 'troupe/auth-provider'
 * export async function authenticate (request: ProviderAuthenticateRequest): Promise<AuthDecision> {
 *   return request.username === 'device' && request.password?.toString() === process.env.DEVICE_SECRET ? 'allow' : 'ignore'
 * }
 * ```
 *
 * A function that throws, rejects or does not answer within the provider's timeout counts as
 * a refusal (fail closed), and the broker logs it: a client is never let in because a
 * provider broke.
 */
export interface AuthProvider {
  authenticate?: (request: ProviderAuthenticateRequest) => Promise<AuthDecision | undefined> | AuthDecision | undefined
  authorizePublish?: (request: ProviderPublishRequest) => Promise<AuthDecision | undefined> | AuthDecision | undefined
  authorizeSubscribe?: (request: ProviderSubscribeRequest) => Promise<AuthDecision | undefined> | AuthDecision | undefined
  /** Called once when the broker stops. */
  close?: () => Promise<void> | void
}
