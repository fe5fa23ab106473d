import type { AddressInfo } from 'node:net'
import type { ClientStream, TransportContext } from '../../actors/connection/client-stream.js'

export const LISTENER_TYPES = ['tcp', 'tls', 'ws', 'wss'] as const
export type ListenerType = typeof LISTENER_TYPES[number]

/** What a listener does with a client it accepted, and with one it turned away before MQTT began. */
export interface ListenerEvents {
  readonly onClient: (stream: ClientStream, transport: TransportContext) => void
  /** A client refused by the transport (failed TLS handshake, wrong WebSocket path): for the log. */
  readonly onRefused: (remoteAddress: string, reason: string) => void
}

/** Where a started listener is bound: what `Broker.listenerAddresses` tells, and the start log says. */
export interface BoundListener {
  readonly type: ListenerType
  /** Which option or list entry made it, as error messages name it. */
  readonly label: string
  readonly host: string
  readonly port: number
  /** ws and wss: the URL path. */
  readonly path?: string
}

/** One way into the broker: a server socket that hands each client's byte stream to the broker. */
export interface Listener {
  readonly type: ListenerType
  /** Binds; port 0 picks a free port, which the returned address names. */
  listen (): Promise<AddressInfo>
  /** Stops accepting; clients already accepted are the broker's to close. */
  close (): Promise<void>
}

/** `host:port` of a client, for log lines. */
export function addressOf (socket: { readonly remoteAddress?: string | undefined, readonly remotePort?: number | undefined }): string {
  return `${socket.remoteAddress ?? 'unknown'}:${socket.remotePort ?? 0}`
}
