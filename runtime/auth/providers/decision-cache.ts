import type { AuthDecision } from './auth-provider.js'

/** Entries kept at most per provider: the oldest go first, so memory stays bounded. */
const DEFAULT_CAPACITY = 10_000

/**
 * A provider's recent answers by request, for `ttlMs`: a client publishing to the same topic a
 * thousand times a second asks the provider once, and is not held while it answers again.
 */
export class DecisionCache {
  private readonly entries = new Map<string, { readonly decision: AuthDecision, readonly expiresAt: number }>()

  constructor (private readonly ttlMs: number, private readonly capacity = DEFAULT_CAPACITY, private readonly now: () => number = Date.now) {}

  get (key: string): AuthDecision | undefined {
    const entry = this.entries.get(key)
    if (entry === undefined) return undefined
    if (entry.expiresAt > this.now()) return entry.decision
    this.entries.delete(key)
    return undefined
  }

  set (key: string, decision: AuthDecision): void {
    if (this.ttlMs <= 0) return
    this.entries.delete(key)
    this.entries.set(key, { decision, expiresAt: this.now() + this.ttlMs })
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!)
  }

  get size (): number {
    return this.entries.size
  }
}
