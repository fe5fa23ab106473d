import type { ClientStream } from './client-stream.js'

/** Why the broker stopped reading a client's socket. */
export type ReadHold = 'permission' | 'throttle'

/** One bit per hold: a connection pays a number, not a set, for its gate. */
const BITS: Readonly<Record<ReadHold, number>> = { permission: 1, throttle: 2 }

/**
 * Pauses a client's socket while anything holds it, and resumes it only once nothing does:
 * an auth provider still deciding on a packet and the inbound rate limit may both hold it,
 * and neither may resume the socket under the other.
 */
export class ReadGate {
  private holds = 0

  constructor (private readonly socket: ClientStream) {}

  get paused (): boolean {
    return this.holds !== 0
  }

  hold (reason: ReadHold): void {
    if (this.holds === 0) this.socket.pause()
    this.holds |= BITS[reason]
  }

  release (reason: ReadHold): void {
    if ((this.holds & BITS[reason]) === 0) return
    this.holds &= ~BITS[reason]
    if (this.holds === 0) this.socket.resume()
  }
}
