/**
 * MQTT 5 enhanced authentication (spec 4.12) as seen by the broker: a pluggable method, named by
 * the Authentication Method property, that runs one challenge/response exchange per CONNECT or
 * per re-authentication. A method only reads and produces Authentication Data; which packet
 * carries an answer (AUTH, CONNACK or DISCONNECT) is the connection machine's business.
 */

/** One run of an authentication exchange for one client (CONNECT or a re-authentication). */
export interface AuthExchange {
  /**
   * Handles the client's Authentication Data (from CONNECT or AUTH) and says what to answer.
   * Never rejects: every problem, a broken credential store included, is a `failure` step.
   * After a `success` or a `failure` the exchange is over and any further step fails.
   */
  step (data: Buffer | undefined): Promise<AuthStep>
}

/** What to answer the client after one step of an exchange. */
export type AuthStep =
  /** Send AUTH 0x18 (Continue authentication) carrying `data`, and wait for the client's AUTH. */
  | { readonly kind: 'continue', readonly data: Buffer }
  /** Send CONNACK 0x00 (on CONNECT) or AUTH 0x00 (on re-authentication) carrying `data` if defined. */
  | { readonly kind: 'success', readonly data: Buffer | undefined, readonly username: string }
  /**
   * Refuse: CONNACK `reasonCode` on CONNECT, DISCONNECT `disconnectReasonCode(reasonCode)` on
   * re-authentication. `detail` is for the server log; it never holds a secret, and it is the
   * same for an unknown user as for a wrong password, so it may also go out as a Reason String.
   */
  | { readonly kind: 'failure', readonly reasonCode: number, readonly detail: string }

/** An authentication method the broker offers, e.g. SCRAM-SHA-256. */
export interface AuthMethod {
  /** The Authentication Method name clients send, e.g. "SCRAM-SHA-256" (compared exactly). */
  readonly name: string
  /** Starts an exchange; `clientId` and `remoteAddress` are for logs and policy. */
  start (context: AuthContext): AuthExchange
}

/** Who an exchange is for. */
export interface AuthContext {
  readonly clientId: string
  readonly remoteAddress: string
}

/** Reason codes a DISCONNECT may carry (MQTT 5 section 3.14.2.1), beside 0x00 and 0x04. */
const DISCONNECT_FAILURE_CODES: ReadonlySet<number> = new Set([
  0x80, 0x81, 0x82, 0x83, 0x87, 0x89, 0x8b, 0x8d, 0x8e, 0x8f, 0x90, 0x93, 0x94, 0x95, 0x96, 0x97,
  0x98, 0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9e, 0x9f, 0xa0, 0xa1, 0xa2
])

/**
 * The DISCONNECT reason code for a failed re-authentication. Some failure codes are CONNACK-only
 * (0x86 Bad user name or password, 0x8C Bad authentication method, 0x88 Server unavailable):
 * those become 0x87 Not authorized.
 */
export function disconnectReasonCode (failureReasonCode: number): number {
  return DISCONNECT_FAILURE_CODES.has(failureReasonCode) ? failureReasonCode : 0x87
}
