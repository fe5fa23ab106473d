import type { RawClient } from './client.js'
import { PacketType } from './frame-reader.js'
import { writePuback } from './packets.js'

/** Room for the PUBACKs of one socket read: a 64 KB read holds at most ~9,400 minimal PUBLISHes. */
const ACK_SCRATCH_BYTES = 64 * 1024
/** PUBACKs worth a write of their own at the end of an event-loop turn. */
const ACK_BATCH = 16
/** Longest a smaller group of PUBACKs waits for company before it is written anyway. */
const ACK_DELAY_MS = 1

/**
 * Counts what a subscriber receives. With `acknowledge`, it answers every QoS 1 PUBLISH with a
 * PUBACK. PUBACKs are written in groups: at the end of an event-loop turn once ACK_BATCH are
 * pending, otherwise after ACK_DELAY_MS. A broker that writes one packet per TCP segment
 * would otherwise get one PUBACK segment per message back, and the load would spend a write
 * syscall (about 1.5 µs on this VM, plus the loopback delivery it carries) on each.
 */
export class CountingSubscriber {
  private scratch = Buffer.allocUnsafe(ACK_SCRATCH_BYTES)
  private ackBytes = 0
  private turnEndScheduled = false
  private timer: NodeJS.Timeout | undefined

  constructor (readonly client: RawClient, acknowledge: boolean) {
    if (!acknowledge) return
    client.handle((first, data, bodyStart) => {
      // Only QoS 1 PUBLISH packets need a PUBACK.
      if (first >> 4 !== PacketType.PUBLISH || (first & 0x06) !== 0x02) return
      const topicLength = data.readUInt16BE(bodyStart)
      const packetId = data.readUInt16BE(bodyStart + 2 + topicLength)
      if (this.ackBytes + 4 > this.scratch.length) this.grow()
      this.ackBytes = writePuback(this.scratch, this.ackBytes, packetId)
      if (!this.turnEndScheduled) {
        this.turnEndScheduled = true
        setImmediate(() => this.atTurnEnd())
      }
    })
  }

  /** PUBLISH packets received so far. */
  get received (): number {
    return this.client.reader.counts[PacketType.PUBLISH]!
  }

  private atTurnEnd (): void {
    this.turnEndScheduled = false
    if (this.ackBytes >= ACK_BATCH * 4) this.flushAcks()
    else if (this.ackBytes > 0) this.timer ??= setTimeout(() => this.flushAcks(), ACK_DELAY_MS)
  }

  private flushAcks (): void {
    clearTimeout(this.timer)
    this.timer = undefined
    if (this.ackBytes === 0 || this.client.socket.destroyed) return
    // Copied out: the scratch buffer is reused for the next read while this write may still be queued.
    this.client.socket.write(Buffer.from(this.scratch.subarray(0, this.ackBytes)))
    this.ackBytes = 0
  }

  private grow (): void {
    const larger = Buffer.allocUnsafe(this.scratch.length * 2)
    this.scratch.copy(larger, 0, 0, this.ackBytes)
    this.scratch = larger
  }
}
