import type { TrafficCounters } from '../../actors/connection/broker-services.js'
import { droppedTotal } from './broker-overview.js'

/** One second of traffic: rates per second over the second before `at`, and connections at `at`. */
export interface TrafficSample {
  /** Epoch ms. */
  readonly at: number
  readonly messagesIn: number
  readonly messagesOut: number
  readonly bytesIn: number
  readonly bytesOut: number
  readonly dropped: number
  readonly connections: number
}

/** An hour of one-second samples. */
const CAPACITY = 3600

/**
 * The last hour of traffic, one sample a second, for the dashboard's charts and its live
 * numbers. Reads the broker's plain counters once a second: nothing on the data path.
 */
export class TrafficHistory {
  private readonly ring: Array<TrafficSample | undefined> = new Array(CAPACITY)
  private next = 0
  private count = 0
  private previous: { at: number, messagesIn: number, messagesOut: number, bytesIn: number, bytesOut: number, dropped: number }
  private timer: NodeJS.Timeout | undefined
  private readonly listeners = new Set<(sample: TrafficSample) => void>()

  constructor (private readonly counters: TrafficCounters, private readonly connections: () => number) {
    this.previous = this.reading(performance.now())
  }

  start (intervalMs = 1000): void {
    this.timer ??= setInterval(() => this.sample(), intervalMs)
    this.timer.unref()
  }

  stop (): void {
    clearInterval(this.timer)
    this.timer = undefined
  }

  /** Called with every new sample, until the returned function is called. */
  subscribe (listener: (sample: TrafficSample) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /** Oldest first; at most the last `limit`. */
  samples (limit = CAPACITY): TrafficSample[] {
    const taken = Math.min(limit, this.count)
    const samples: TrafficSample[] = []
    for (let i = this.count - taken; i < this.count; i++) samples.push(this.ring[(this.next - this.count + i + CAPACITY) % CAPACITY]!)
    return samples
  }

  latest (): TrafficSample | undefined {
    return this.count === 0 ? undefined : this.ring[(this.next - 1 + CAPACITY) % CAPACITY]
  }

  /** Takes a sample now (the timer does, once a second). */
  sample (): TrafficSample {
    const now = this.reading(performance.now())
    const seconds = Math.max((now.at - this.previous.at) / 1000, 0.001)
    const rate = (key: 'messagesIn' | 'messagesOut' | 'bytesIn' | 'bytesOut' | 'dropped'): number => (now[key] - this.previous[key]) / seconds
    const sample: TrafficSample = {
      at: Date.now(),
      messagesIn: rate('messagesIn'),
      messagesOut: rate('messagesOut'),
      bytesIn: rate('bytesIn'),
      bytesOut: rate('bytesOut'),
      dropped: rate('dropped'),
      connections: this.connections()
    }
    this.previous = now
    this.ring[this.next] = sample
    this.next = (this.next + 1) % CAPACITY
    if (this.count < CAPACITY) this.count++
    for (const listener of this.listeners) listener(sample)
    return sample
  }

  private reading (at: number): { at: number, messagesIn: number, messagesOut: number, bytesIn: number, bytesOut: number, dropped: number } {
    const counters = this.counters
    return { at, messagesIn: counters.messagesReceived, messagesOut: counters.messagesSent, bytesIn: counters.bytesReceived, bytesOut: counters.bytesSent, dropped: droppedTotal(counters) }
  }
}
