import type { RawClient } from './client.js'

/** How often a stalled flood checks whether its in-flight messages were dropped. */
const STALL_CHECK_MS = 50
/** No delivery for this long while messages are in flight means the broker dropped them. */
const STALL_MS = 500

/** One QoS 0 publisher of a capped flood and the batch of PUBLISH packets it writes. */
export interface FloodSource {
  readonly client: RawClient
  readonly batch: Buffer
  readonly messagesPerBatch: number
}

/**
 * QoS 0 publishers that send as fast as deliveries come back, with at most `cap` deliveries in
 * flight (a message sent to N subscribers is N deliveries; in flight until a subscriber has
 * read it) across all of them. Without such a cap the kernel's socket buffers (up to 4 MB per
 * publisher socket here) let a flood queue hundreds of MB in front of the broker: what is
 * measured is then overload collapse, not throughput. Batches go out round-robin over the
 * publishers whose sockets are not full.
 *
 * QoS 0 may be dropped by the broker: if nothing is delivered for STALL_MS while messages are
 * in flight, those are counted as lost and the window opens again.
 */
export class CappedFlood {
  /** Messages written so far. */
  sent = 0
  /** Deliveries written off as dropped by the broker. */
  lost = 0
  private running = false
  private next = 0
  private readonly blocked: boolean[]
  private lastDelivered = 0
  private lastProgressAt = 0
  private stallTimer: NodeJS.Timeout | undefined

  /**
   * @param delivered deliveries seen by all subscribers so far
   * @param copies deliveries one published message makes (the number of subscribers it reaches)
   */
  constructor (
    private readonly sources: readonly FloodSource[],
    private readonly delivered: () => number,
    private readonly copies: number,
    private readonly cap: number
  ) {
    this.blocked = sources.map(() => false)
    sources.forEach((source, index) => {
      source.client.socket.on('drain', () => {
        this.blocked[index] = false
        this.refill()
      })
    })
  }

  /** Deliveries due and neither made nor written off. */
  get inFlight (): number {
    const inFlight = this.sent * this.copies - this.lost - this.delivered()
    // More arrived than was left in flight: some written off were late, not lost after all.
    if (inFlight < 0) this.lost = Math.max(0, this.lost + inFlight)
    return Math.max(0, inFlight)
  }

  start (): void {
    this.running = true
    this.lastProgressAt = performance.now()
    this.stallTimer = setInterval(() => this.checkStall(), STALL_CHECK_MS)
    this.refill()
  }

  stop (): void {
    this.running = false
    clearInterval(this.stallTimer)
  }

  /** Sends what the cap allows now; call it whenever a subscriber has read something. */
  refill (): void {
    if (!this.running) return
    const sources = this.sources
    let room = this.cap - this.inFlight
    let tried = 0
    while (tried < sources.length) {
      const index = this.next
      const source = sources[index]!
      this.next = (index + 1) % sources.length
      const deliveries = source.messagesPerBatch * this.copies
      if (room < deliveries) return
      if (this.blocked[index]! || source.client.socket.destroyed) {
        tried++
        continue
      }
      tried = 0
      this.sent += source.messagesPerBatch
      room -= deliveries
      if (!source.client.socket.write(source.batch)) this.blocked[index] = true
    }
  }

  private checkStall (): void {
    const delivered = this.delivered()
    const now = performance.now()
    if (delivered !== this.lastDelivered) {
      this.lastDelivered = delivered
      this.lastProgressAt = now
      return
    }
    const inFlight = this.inFlight
    if (inFlight > 0 && now - this.lastProgressAt > STALL_MS) {
      this.lost += inFlight
      this.lastProgressAt = now
      this.refill()
    }
  }
}
