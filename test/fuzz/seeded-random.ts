/**
 * A small seeded pseudo-random generator (mulberry32). The fuzzer draws every choice from
 * one of these, so a seed names one exact run and a failure can be replayed byte for byte;
 * Math.random could not do that.
 */
export class SeededRandom {
  private state: number

  constructor (seed: number) {
    this.state = seed >>> 0
  }

  /** A generator for one part of a run (one connection), independent of how the others went. */
  static forStream (seed: number, stream: number): SeededRandom {
    // Mixing the stream number through an odd multiplier keeps neighbouring streams unrelated.
    return new SeededRandom(Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(stream + 1, 0xc2b2ae35))
  }

  /** A float in [0, 1). */
  next (): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0
    let t = this.state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }

  /** An integer in [0, bound). */
  below (bound: number): number {
    return Math.floor(this.next() * bound)
  }

  /** An integer in [min, max], both included. */
  between (min: number, max: number): number {
    return min + this.below(max - min + 1)
  }

  chance (probability: number): boolean {
    return this.next() < probability
  }

  pick<T> (items: readonly T[]): T {
    return items[this.below(items.length)]!
  }

  bytes (length: number): Buffer {
    const bytes = Buffer.allocUnsafe(length)
    for (let i = 0; i < length; i++) bytes[i] = this.below(256)
    return bytes
  }
}
