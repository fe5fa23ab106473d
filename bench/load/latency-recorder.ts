import type { RawClient } from './client.js'
import { PacketType } from './frame-reader.js'

/**
 * Records, for each PUBLISH a subscriber receives, how long ago it was sent: the sender wrote
 * its send time into the last 8 bytes. Sender and receiver share this process, so one clock.
 */
export class LatencyRecorder {
  private samples = new Float64Array(1 << 16)
  private count = 0
  private receivedAt = 0
  recording = false

  constructor (client: RawClient) {
    // Read the clock once per socket read, before the reader walks its packets: every packet
    // in one read arrived at the same moment.
    client.socket.prependListener('data', () => { this.receivedAt = performance.now() })
    client.handle((first, data, _bodyStart, end) => {
      if (!this.recording || first >> 4 !== PacketType.PUBLISH) return
      if (this.count === this.samples.length) this.grow()
      this.samples[this.count++] = this.receivedAt - data.readDoubleLE(end - 8)
    })
  }

  get size (): number {
    return this.count
  }

  /** The p-th percentile (0..100) of what was recorded, in ms, by nearest rank. */
  percentile (p: number): number {
    if (this.count === 0) return Number.NaN
    const sorted = this.samples.slice(0, this.count).sort()
    const rank = Math.min(this.count - 1, Math.max(0, Math.ceil(p / 100 * this.count) - 1))
    return sorted[rank]!
  }

  private grow (): void {
    const larger = new Float64Array(this.samples.length * 2)
    larger.set(this.samples)
    this.samples = larger
  }
}
