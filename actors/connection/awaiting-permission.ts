import type { Packet } from 'mqtt-packet'

/**
 * What a packet handler returns when a permission it needs is still being decided (an auth
 * provider asking a remote service). The connection then holds that packet, and every packet
 * behind it, until `decided` settles, and hands the packet to the handler again: the decision
 * is remembered for that second run (ConnectionLink.permission), so the handler runs to the
 * end without asking twice. A handler returns this before any side effect, so running it
 * again is safe.
 */
export class AwaitingPermission {
  constructor (readonly decided: Promise<unknown>) {}
}

/** Packets a connection holds, in order, until a permission the first of them needs is decided. */
export interface HeldPackets {
  readonly held: Packet[]
  readonly until: Promise<unknown>
}
