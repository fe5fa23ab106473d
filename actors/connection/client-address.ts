import type { ClientStream, TransportContext } from './client-stream.js'

/**
 * The IP address per-address limits count a client under: the one the listener established
 * (behind a load balancer, from its PROXY protocol header), otherwise the socket's peer. An
 * IPv4 address that reaches a dual-stack listener as `::ffff:a.b.c.d` counts as `a.b.c.d`, so
 * one client is one key.
 */
export function clientAddressOf (stream: ClientStream, transport: TransportContext): string {
  const address = transport.remoteAddress ?? stream.remoteAddress ?? 'unknown'
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address
}
