import type { ClientStream } from './client-stream.js'

/**
 * Bytes waiting to be written to one socket. Everything written during one turn of the
 * event loop leaves in a single socket write, and the outbox says when the client has fallen
 * behind so that the session stops sending to it.
 */
export class Outbox {
  private chunks: Buffer[] = []
  private bytes = 0
  private scheduled = false
  private closed = false
  /** Bytes handed to the socket over the outbox's life, for metrics. */
  bytesWritten = 0

  constructor (
    private readonly socket: ClientStream,
    /** Above this many unsent bytes the client counts as backed up. */
    private readonly highWaterMark: number,
    /** Called when a backed-up client can take more again. */
    private readonly onRelief: () => void
  ) {
    socket.on('drain', onRelief)
  }

  get backedUp (): boolean {
    return this.pendingBytes > this.highWaterMark
  }

  /** Bytes written and not yet handed to the network: the outbox's and the socket's. */
  get pendingBytes (): number {
    return this.bytes + this.socket.writableLength
  }

  write (bytes: Buffer): void {
    if (this.closed) return
    this.chunks.push(bytes)
    this.bytes += bytes.length
    // A long loop turn (a burst from many publishers) must not pile up output until its end:
    // past this much, write now, so `backedUp` speaks of the socket and not of the turn.
    if (this.bytes >= EAGER_WRITE_BYTES) {
      this.writeOut()
      return
    }
    if (!this.scheduled) {
      this.scheduled = true
      flushQueue.push(this)
      if (flushQueue.length === 1) setImmediate(flushAll)
    }
  }

  /** Writes what is waiting now, as one chunk. */
  flush (): void {
    this.scheduled = false
    this.writeOut()
  }

  private writeOut (): void {
    if (this.chunks.length === 0 || this.closed) return
    const wasBackedUp = this.backedUp
    const data = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.bytes)
    this.chunks = []
    this.bytesWritten += this.bytes
    this.bytes = 0
    this.socket.write(data)
    // The socket took it all without filling up, so no 'drain' will come: relieve now.
    if (wasBackedUp && !this.backedUp) this.onRelief()
  }

  /** Flushes, then stops accepting writes: used right before the socket is ended. */
  close (): void {
    this.flush()
    this.closed = true
  }
}

/** Pending output that is written at once rather than at the end of the loop turn. */
const EAGER_WRITE_BYTES = 64 * 1024

const flushQueue: Outbox[] = []

function flushAll (): void {
  // An outbox flushed here may be written again by a later event in this same loop turn;
  // it then schedules itself into the next turn, so take the list before flushing.
  const outboxes = flushQueue.splice(0, flushQueue.length)
  for (const outbox of outboxes) outbox.flush()
}
