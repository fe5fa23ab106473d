import type { RawClient } from './client.js'
import type { WindowedPublisher } from './windowed-publisher.js'

/**
 * Drives QoS 1 publishers under two bounds: each publisher's own window of unacknowledged
 * PUBLISHes, and `cap` messages in flight end to end (sent, not yet received by the
 * subscriber) across all of them. Brokers PUBACK a QoS 1 PUBLISH once they have taken it, not
 * once it is delivered, so the publisher windows alone would let publishers outrun the
 * subscriber and fill the broker's queue until it drops: the end-to-end cap keeps the measure
 * about delivery.
 *
 * Sending is done once per event-loop turn, after every packet that turn brought has been
 * counted, and a publisher sends only once a quarter of its window is free: a broker that
 * PUBACKs in one TCP segment per packet would otherwise make the load write one PUBLISH per
 * syscall, and the load core would saturate before the broker's.
 */
export class Qos1Flow {
  private running = false
  private scheduled = false
  private next = 0
  private readonly minimumSend: number

  constructor (
    private readonly publishers: readonly WindowedPublisher[],
    private readonly delivered: () => number,
    private readonly cap: number,
    sockets: readonly RawClient[]
  ) {
    this.minimumSend = Math.max(1, Math.ceil(Math.min(...publishers.map(publisher => publisher.window)) / 4))
    for (const client of sockets) client.socket.on('data', () => this.schedule())
  }

  get sent (): number {
    return this.publishers.reduce((sum, publisher) => sum + publisher.sent, 0)
  }

  start (): void {
    this.running = true
    this.schedule()
  }

  stop (): void {
    this.running = false
  }

  private schedule (): void {
    if (this.scheduled || !this.running) return
    this.scheduled = true
    setImmediate(() => {
      this.scheduled = false
      this.refill()
    })
  }

  private refill (): void {
    if (!this.running) return
    const publishers = this.publishers
    let room = this.cap - (this.sent - this.delivered())
    // Round-robin, so that no publisher takes the whole end-to-end allowance.
    for (let tried = 0; tried < publishers.length && room > 0; tried++) {
      const publisher = publishers[this.next]!
      this.next = (this.next + 1) % publishers.length
      const count = Math.min(publisher.room, room, Math.ceil(this.cap / publishers.length))
      if (count < this.minimumSend) continue
      publisher.send(count)
      room -= count
    }
  }
}
