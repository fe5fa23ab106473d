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
 * Decides what a connected client may do with topics. Security providers implement this; the
 * default allows everything. The checks are synchronous because they run on the data path,
 * once per PUBLISH and once per delivery: a provider that must ask a remote service caches.
 */
export interface Authorizer {
  /** May the client publish this message? A refused PUBLISH is dropped (v5: acknowledged with 0x87). */
  authorizePublish (request: PublishAuthorization): boolean
  /** May the client subscribe to this filter? A refused filter gets SUBACK 0x80 (v5: 0x87). */
  authorizeSubscribe (request: SubscribeAuthorization): boolean
  /**
   * May the client receive a message on this topic? Checked for every message sent to it,
   * retained ones included, so that a wildcard subscription only brings what it may read.
   */
  authorizeRead (request: ReadAuthorization): boolean
  /** True when every check would say yes: the broker then skips the checks entirely. */
  readonly allowsEverything?: boolean
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
