import type { QoS } from 'mqtt-packet'

/** Who is asking: the client as it connected. */
export interface ClientIdentity {
  readonly clientId: string
  /** The CONNECT user name; undefined for an anonymous client (an empty name is still a name). */
  readonly username: string | undefined
}

/** A client wants to publish (or leave a will) on `topic`. */
export interface PublishAuthorization extends ClientIdentity {
  readonly topic: string
  readonly retain: boolean
  readonly qos: QoS
}

/** A client wants to subscribe to `filter` (for `$share/{name}/{filter}`, the filter after the share name). */
export interface SubscribeAuthorization extends ClientIdentity {
  readonly filter: string
}

/** A client is about to receive a message on `topic`. */
export interface ReadAuthorization extends ClientIdentity {
  readonly topic: string
}

/**
 * A yes or no, or, from a provider that must ask elsewhere (an HTTP service, a module's async
 * function), the promise of one. A promise never rejects: a provider that fails says no.
 */
export type Permission = boolean | Promise<boolean>

/**
 * Decides what a connected client may do with topics. Security providers implement this; the
 * default allows everything. Publish and subscribe checks may answer later (the connection
 * then holds that packet and the ones behind it, in order, until the answer comes); the read
 * check runs once per delivery, on the data path, and is always synchronous.
 */
export interface Authorizer {
  /** May the client publish this message? A refused PUBLISH is dropped (v5: acknowledged with 0x87). */
  authorizePublish (request: PublishAuthorization): Permission
  /** May the client subscribe to this filter? A refused filter gets SUBACK 0x80 (v5: 0x87). */
  authorizeSubscribe (request: SubscribeAuthorization): Permission
  /**
   * May the client receive a message on this topic? Checked for every message sent to it,
   * retained ones included, so that a wildcard subscription only brings what it may read.
   */
  authorizeRead (request: ReadAuthorization): boolean
  /** True when every check would say yes: the broker then skips the checks entirely. */
  readonly allowsEverything?: boolean
  /** True when a publish or subscribe check may answer with a promise. */
  readonly mayAnswerLater?: boolean
}

export const allowAll: Authorizer = {
  authorizePublish: () => true,
  authorizeSubscribe: () => true,
  authorizeRead: () => true,
  allowsEverything: true
}

/** The authorizer whose checks must run, or undefined when none (so the data path can skip them). */
export function enforcedAuthorizer (authorizer: Authorizer | undefined): Authorizer | undefined {
  return authorizer === undefined || authorizer.allowsEverything === true ? undefined : authorizer
}
