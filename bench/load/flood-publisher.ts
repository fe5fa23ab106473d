import type { RawClient } from './client.js'

/** Batches a publisher may write in one event-loop turn before letting the other sockets run. */
const BATCHES_PER_TURN = 8

/**
 * A QoS 0 publisher that sends as fast as the broker takes it: the same pre-encoded batch of
 * PUBLISH packets written again and again, pausing whenever the socket says it is full
 * (`write` returned false) until 'drain'. The broker's reading speed sets the pace.
 */
export class FloodPublisher {
  /** Messages handed to the socket so far. */
  sent = 0
  private running = false
  private waitingForDrain = false

  constructor (private readonly client: RawClient, private readonly batch: Buffer, private readonly messagesPerBatch: number) {
    client.socket.on('drain', () => {
      this.waitingForDrain = false
      this.pump()
    })
  }

  start (): void {
    this.running = true
    this.pump()
  }

  stop (): void {
    this.running = false
  }

  private pump (): void {
    const socket = this.client.socket
    for (let i = 0; i < BATCHES_PER_TURN; i++) {
      if (!this.running || this.waitingForDrain || socket.destroyed) return
      this.sent += this.messagesPerBatch
      if (!socket.write(this.batch)) {
        this.waitingForDrain = true
        return
      }
    }
    // The socket still takes more: carry on next turn, after other sockets had their go.
    setImmediate(() => this.pump())
  }
}
