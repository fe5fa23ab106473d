/** How an address's failed logins are limited. */
export interface FailedLoginPolicy {
  /** Failed logins from one address within a minute before it is banned; 0 turns the limit off. */
  readonly perMinute: number
  /** How long, in seconds, a banned address's logins are refused without being checked. */
  readonly banSeconds: number
}

/** What a failed login did to its address. */
export type FailureOutcome = 'counted' | 'banned'

const WINDOW_MS = 60_000
/** Addresses tracked at most: beyond it the oldest entries go, so a scan from many addresses costs bounded memory. */
const MAX_ADDRESSES = 100_000

interface AddressRecord {
  failures: number
  windowStart: number
  bannedUntil: number
}

/**
 * Failed logins per client address (host, without the port), against password guessing: after
 * `perMinute` failures within a minute, the address's logins are refused unchecked for
 * `banSeconds` (v5 CONNACK 0x8A Banned, v3 return code 5), and the broker logs the ban once
 * instead of every attempt. A successful login clears its address's count.
 */
export class FailedLogins {
  private readonly addresses = new Map<string, AddressRecord>()

  constructor (readonly policy: FailedLoginPolicy, private readonly now: () => number = Date.now) {}

  get enabled (): boolean {
    return this.policy.perMinute > 0
  }

  /** True while `address` is banned. */
  isBanned (address: string): boolean {
    const record = this.addresses.get(address)
    return record !== undefined && record.bannedUntil > this.now()
  }

  recordFailure (address: string): FailureOutcome {
    if (!this.enabled) return 'counted'
    const now = this.now()
    let record = this.addresses.get(address)
    if (record === undefined || now - record.windowStart >= WINDOW_MS) {
      // Re-inserted, so that the map's order stays oldest first for eviction.
      this.addresses.delete(address)
      record = { failures: 0, windowStart: now, bannedUntil: record?.bannedUntil ?? 0 }
      this.addresses.set(address, record)
      this.evict()
    }
    record.failures++
    if (record.failures < this.policy.perMinute) return 'counted'
    record.bannedUntil = now + this.policy.banSeconds * 1000
    record.failures = 0
    record.windowStart = now
    return 'banned'
  }

  recordSuccess (address: string): void {
    this.addresses.delete(address)
  }

  /** Drops the entry least recently started: O(1), so a scan from many addresses stays cheap. */
  private evict (): void {
    if (this.addresses.size <= MAX_ADDRESSES) return
    const oldest = this.addresses.keys().next()
    if (oldest.done !== true) this.addresses.delete(oldest.value)
  }
}
