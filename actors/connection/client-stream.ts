import type { Duplex } from 'node:stream'

/**
 * The byte stream a Connection speaks MQTT over: a TCP or TLS socket, or a WebSocket adapted
 * to a stream. Only a socket has a Nagle algorithm to turn off; a WebSocket stream names its
 * client's address itself.
 */
export interface ClientStream extends Duplex {
  readonly remoteAddress?: string | undefined
  readonly remotePort?: number | undefined
  setNoDelay?: (noDelay?: boolean) => unknown
}

/** What the listener established about a client before its first MQTT byte. */
export interface TransportContext {
  /**
   * A name the transport vouched for, such as a verified TLS client certificate's CN: it
   * replaces the username of the CONNECT, for the authenticator and everything after it.
   */
  readonly identity?: string
  /**
   * The client's address as the broker reports and judges it (log lines, the authenticator's
   * `remoteAddress`, per-address limits), when the listener learnt it from elsewhere than the
   * socket: the source address of a PROXY protocol header, the client behind a load balancer.
   * Absent: the stream's own `remoteAddress` is the client's. Set together with `remotePort`.
   */
  readonly remoteAddress?: string
  /** The client's port that goes with `remoteAddress` (0 for a UNIX socket client). */
  readonly remotePort?: number
}
