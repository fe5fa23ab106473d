import type { Packet } from 'mqtt-packet'
import type { ReadGate } from '../read-gate.js'
import type { LimitKind } from './limit-kind.js'
import { TokenBucket } from './token-bucket.js'

/** Per-client inbound budgets; 0 turns one off. */
export interface InboundLimits {
  /** PUBLISH packets a second. */
  readonly maxMessageRate: number
  /** Bytes of packets a second. */
  readonly maxBandwidth: number
}

export type ThrottleKind = Extract<LimitKind, 'max-message-rate' | 'max-bandwidth'>

/**
 * Keeps one client's inbound traffic within its budgets by backpressure, as EMQX does: the
 * packets of a chunk that are over budget wait here, in order, and the socket is not read
 * until they have gone through, so TCP slows the publisher down. Nothing is dropped and the
 * client is not disconnected. Each budget allows a burst of one second's worth.
 *
 *   chunk -> packets -> [ within budget ] -> handlers
 *                          | over: hold the rest, pause reading, pass them on as the budget refills
 */
export class InboundThrottle {
  private readonly messages: TokenBucket | undefined
  private readonly bytes: TokenBucket | undefined
  private held: Packet[] = []
  private timer: NodeJS.Timeout | undefined
  private stopped = false

  private constructor (
    limits: InboundLimits,
    private readonly gate: ReadGate,
    /** Hands packets within budget to the connection, in the order they came. */
    private readonly pass: (packets: Packet[]) => void,
    /** Told each time the client is held back, and by which budget. */
    private readonly throttled: (limit: ThrottleKind) => void
  ) {
    const now = performance.now()
    this.messages = limits.maxMessageRate > 0 ? new TokenBucket(limits.maxMessageRate, limits.maxMessageRate, now) : undefined
    this.bytes = limits.maxBandwidth > 0 ? new TokenBucket(limits.maxBandwidth, limits.maxBandwidth, now) : undefined
  }

  /** A throttle for `limits`, or undefined when both are off: then the data path pays nothing. */
  static for (limits: InboundLimits, gate: ReadGate, pass: (packets: Packet[]) => void, throttled: (limit: ThrottleKind) => void): InboundThrottle | undefined {
    if (limits.maxMessageRate === 0 && limits.maxBandwidth === 0) return undefined
    return new InboundThrottle(limits, gate, pass, throttled)
  }

  /** Packets are waiting for budget (and the socket is not being read). */
  get holding (): boolean {
    return this.held.length > 0
  }

  /** The packets of one chunk: those within budget go on now, the rest when it allows. */
  admit (packets: Packet[]): void {
    if (this.held.length > 0) {
      // Only a chunk already on its way when reading paused: it queues behind the held ones.
      this.held.push(...packets)
      return
    }
    this.release(packets)
  }

  /** Forgets what is held: the connection is closing, and none of it was acknowledged. */
  stop (): void {
    this.stopped = true
    clearTimeout(this.timer)
    this.timer = undefined
    this.held = []
  }

  private release (packets: Packet[]): void {
    const now = performance.now()
    let index = 0
    let wait = 0
    let limit: ThrottleKind = 'max-bandwidth'
    for (; index < packets.length; index++) {
      const packet = packets[index]!
      // The fixed header is 2 to 5 bytes; 2 is close enough for a budget.
      const size = (packet.length ?? 0) + 2
      const publish = packet.cmd === 'publish'
      const bytesWait = this.bytes?.waitFor(size, now) ?? 0
      const messagesWait = publish ? this.messages?.waitFor(1, now) ?? 0 : 0
      if (bytesWait > 0 || messagesWait > 0) {
        wait = Math.max(bytesWait, messagesWait)
        limit = messagesWait >= bytesWait ? 'max-message-rate' : 'max-bandwidth'
        break
      }
      this.bytes?.spend(size, now)
      if (publish) this.messages?.spend(1, now)
    }
    if (index > 0) this.pass(index === packets.length ? packets : packets.slice(0, index))
    // What was passed on may have ended the connection.
    if (this.stopped) return
    if (index === packets.length) {
      this.held = []
      this.gate.release('throttle')
      return
    }
    this.held = packets.slice(index)
    this.throttled(limit)
    this.gate.hold('throttle')
    this.timer = setTimeout(() => {
      this.timer = undefined
      this.release(this.held)
    }, wait)
    this.timer.unref()
  }
}
