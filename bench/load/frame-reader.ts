/** MQTT control packet types, the high nibble of a packet's first byte. */
export const PacketType = {
  CONNACK: 2,
  PUBLISH: 3,
  PUBACK: 4,
  SUBACK: 9
} as const

/**
 * Called for each complete packet: `first` is its first byte, the body (variable header and
 * payload) is `data[bodyStart, end)`. `data` is only valid during the call.
 */
export type FrameHandler = (first: number, data: Buffer, bodyStart: number, end: number) => void

/**
 * A minimal incremental MQTT reader for the load side: it decodes only fixed headers, counts
 * packets by type, and hands complete frames to an optional handler. No packet object is
 * built, so reading what a broker sends costs far less than the broker spent sending it.
 */
export class FrameReader {
  /** Packets seen, indexed by packet type. */
  readonly counts = new Float64Array(16)
  /** Set only by users that need the bytes (acks, latency); counting alone needs no call. */
  onFrame: FrameHandler | undefined
  /** The start of a frame that the last chunk cut off. */
  private partial: Buffer | undefined

  push (chunk: Buffer): void {
    let offset = 0
    // Complete a frame cut off by the previous chunk by copying just the bytes it lacks,
    // rather than concatenating whole chunks.
    while (this.partial !== undefined && offset < chunk.length) {
      const partial = this.partial
      const size = frameSize(partial, 0, partial.length)
      // Until the length is known, take one byte at a time: the frame may be shorter than a guess.
      const take = size < 0 ? 1 : Math.min(size - partial.length, chunk.length - offset)
      const grown = Buffer.concat([partial, chunk.subarray(offset, offset + take)])
      offset += take
      const grownSize = frameSize(grown, 0, grown.length)
      if (grownSize >= 0 && grown.length === grownSize) {
        this.partial = undefined
        this.emit(grown, 0, grownSize)
      } else {
        this.partial = grown
      }
    }
    if (offset < chunk.length) this.scan(chunk, offset)
  }

  private scan (data: Buffer, offset: number): void {
    const length = data.length
    const counts = this.counts
    const onFrame = this.onFrame
    while (offset < length) {
      // Inline decoding of the remaining length: this loop runs once per packet received.
      let index = offset + 1
      let remaining = 0
      let multiplier = 1
      let complete = false
      while (index < length) {
        const byte = data[index++]!
        remaining += (byte & 0x7f) * multiplier
        if ((byte & 0x80) === 0) { complete = true; break }
        multiplier *= 128
      }
      const end = index + remaining
      if (!complete || end > length) {
        this.partial = Buffer.from(data.subarray(offset))
        return
      }
      const first = data[offset]!
      counts[first >> 4]++
      if (onFrame !== undefined) onFrame(first, data, index, end)
      offset = end
    }
  }

  private emit (frame: Buffer, start: number, end: number): void {
    const first = frame[start]!
    this.counts[first >> 4]++
    let index = start + 1
    while ((frame[index++]! & 0x80) !== 0);
    this.onFrame?.(first, frame, index, end)
  }
}

/** Total size of the frame at `data[offset]`, or -1 while its fixed header is incomplete. */
function frameSize (data: Buffer, offset: number, length: number): number {
  let index = offset + 1
  let remaining = 0
  let multiplier = 1
  while (index < length) {
    const byte = data[index++]!
    remaining += (byte & 0x7f) * multiplier
    if ((byte & 0x80) === 0) return index - offset + remaining
    multiplier *= 128
  }
  return -1
}
