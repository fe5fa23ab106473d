/**
 * A token bucket: `rate` tokens a second flow in, up to `burst`. A cost is paid when the
 * bucket holds it; a cost larger than the whole burst is paid from a full bucket, leaving it
 * in debt, so that nothing is too large ever to pass and the long-run rate still holds.
 *
 *   refill (rate/s) -> [ tokens <= burst ] -> spend(cost)
 */
export class TokenBucket {
  private tokens: number
  private updatedAt: number

  constructor (readonly rate: number, readonly burst: number, now: number) {
    this.tokens = burst
    this.updatedAt = now
  }

  /** Milliseconds until `cost` can be paid: 0 when it can be now. */
  waitFor (cost: number, now: number): number {
    this.refill(now)
    const needed = Math.min(cost, this.burst) - this.tokens
    return needed <= 0 ? 0 : Math.ceil(needed * 1000 / this.rate)
  }

  /** Pays `cost` whether or not the bucket holds it (after `waitFor` said it may). */
  spend (cost: number, now: number): void {
    this.refill(now)
    this.tokens -= cost
  }

  /** Pays `cost` if it can be paid now; false, and nothing taken, otherwise. */
  trySpend (cost: number, now: number): boolean {
    if (this.waitFor(cost, now) > 0) return false
    this.tokens -= cost
    return true
  }

  /** Back to its full burst: the bucket remembers nothing worth keeping. */
  isFull (now: number): boolean {
    this.refill(now)
    return this.tokens >= this.burst
  }

  private refill (now: number): void {
    const elapsed = now - this.updatedAt
    if (elapsed <= 0) return
    this.updatedAt = now
    this.tokens = Math.min(this.burst, this.tokens + elapsed * this.rate / 1000)
  }
}
