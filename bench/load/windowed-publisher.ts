import type { RawClient } from './client.js'
import { PacketType } from './frame-reader.js'
import type { PublishTemplate } from './packets.js'

/**
 * A QoS 1 publisher that never has more than `window` PUBLISHes unacknowledged (no PUBACK
 * yet). It sends only when told to (see Qos1Flow): each send is one write of as many copies of
 * the pre-encoded template as asked, each with its packet id patched in.
 */
export class WindowedPublisher {
  /** PUBLISHes written so far. */
  sent = 0
  private nextId = 1

  constructor (readonly client: RawClient, private readonly template: PublishTemplate, readonly window: number) {}

  /** PUBACKs received so far. */
  get acked (): number {
    return this.client.reader.counts[PacketType.PUBACK]!
  }

  /** How many more it may send before its window is full. */
  get room (): number {
    return this.window - (this.sent - this.acked)
  }

  send (count: number): void {
    const { bytes, packetIdOffset } = this.template
    const size = bytes.length
    // A fresh buffer per write: a queued write still refers to its buffer, so it must not be patched later.
    const batch = Buffer.allocUnsafe(size * count)
    for (let i = 0; i < count; i++) {
      const offset = i * size
      bytes.copy(batch, offset)
      batch.writeUInt16BE(this.nextId, offset + packetIdOffset)
      // Ids cycle through 1..65535; with at most `window` in flight an id is long free when reused.
      this.nextId = this.nextId === 0xffff ? 1 : this.nextId + 1
    }
    this.sent += count
    this.client.socket.write(batch)
  }
}
