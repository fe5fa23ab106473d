import { TokenBucket } from '../../actors/connection/limits/token-bucket.js'

/** What the broker remembers about one client IP address. */
export interface AddressEntry {
  /** Connections from it that were let in and have not closed yet. */
  open: number
  /** Sockets from it being refused (answered with CONNACK, then closed). */
  refusing: number
  /** Its new-connection budget, when max-connection-rate is set. */
  readonly bucket: TokenBucket | undefined
}

/** How often entries that no longer hold anything are forgotten. */
const SWEEP_INTERVAL_MS = 5000
/** Addresses remembered at most; beyond it, idle ones are forgotten oldest first. */
const MAX_ADDRESSES = 100_000

/**
 * Per-address connection counts and rate budgets. An entry lives while its address has
 * sockets open or its rate budget is still refilling; a sweep forgets the rest, and a scan from
 * more addresses than MAX_ADDRESSES makes the oldest idle ones go early (their rate history is
 * lost, which only lets them in sooner), so the table cannot grow without bound.
 */
export class AddressTable {
  private readonly entries = new Map<string, AddressEntry>()
  private readonly timer: NodeJS.Timeout

  /** `connectionRate`: new connections a second per address (and as many in a burst); 0 for none. */
  constructor (private readonly connectionRate: number) {
    this.timer = setInterval(() => this.sweep(performance.now()), SWEEP_INTERVAL_MS)
    this.timer.unref()
  }

  get size (): number {
    return this.entries.size
  }

  entryFor (address: string, now: number): AddressEntry {
    let entry = this.entries.get(address)
    if (entry === undefined) {
      if (this.entries.size >= MAX_ADDRESSES) this.makeRoom(now)
      entry = { open: 0, refusing: 0, bucket: this.connectionRate > 0 ? new TokenBucket(this.connectionRate, this.connectionRate, now) : undefined }
      this.entries.set(address, entry)
    }
    return entry
  }

  stop (): void {
    clearInterval(this.timer)
  }

  private sweep (now: number): void {
    for (const [address, entry] of this.entries) {
      if (isIdle(entry, now)) this.entries.delete(address)
    }
  }

  private makeRoom (now: number): void {
    this.sweep(now)
    // Down to nine tenths, so that a scan does not pay for this on every new address.
    const target = MAX_ADDRESSES * 0.9
    for (const [address, entry] of this.entries) {
      if (this.entries.size <= target) return
      if (entry.open === 0 && entry.refusing === 0) this.entries.delete(address)
    }
  }
}

function isIdle (entry: AddressEntry, now: number): boolean {
  return entry.open === 0 && entry.refusing === 0 && (entry.bucket === undefined || entry.bucket.isFull(now))
}
