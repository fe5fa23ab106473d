import type { AdmissionRefusal } from '../../actors/connection/limits/admission-refusal.js'
import { ReasonCode } from '../../actors/connection/protocol/reason-codes.js'
import { AddressTable, type AddressEntry } from './address-table.js'

/** The connection limits; 0 turns one off. */
export interface AdmissionLimits {
  readonly maxConnections: number
  readonly maxConnectionsPerAddress: number
  /** New connections a second per address, with a burst of as many. */
  readonly maxConnectionRate: number
}

/** A socket the admission counts until it closes: hand it back to `release`. */
export interface AdmissionTicket {
  readonly admitted: boolean
  released: boolean
  readonly entry: AddressEntry | undefined
}

export type Admission =
  | { readonly kind: 'admitted', readonly ticket: AdmissionTicket }
  /** Let in only to be told why with a CONNACK once its CONNECT comes, then closed. */
  | { readonly kind: 'refused', readonly ticket: AdmissionTicket, readonly refusal: AdmissionRefusal }
  /** Too many sockets are being refused already: destroyed at once, unanswered. */
  | { readonly kind: 'dropped', readonly refusal: AdmissionRefusal }

/** Sockets held at once for refusals, broker-wide, when max-connections is lower (or off). */
const MIN_REFUSAL_BACKLOG = 100
/** The same per address, when max-connections-per-address is lower (or off). */
const MIN_REFUSAL_BACKLOG_PER_ADDRESS = 10

/**
 * Decides at accept time whether a new socket may become a connection: the broker-wide and
 * per-address connection counts, the per-address connection rate, and the memory watermark.
 * A refused client should learn why, so its socket is kept just long enough to answer its
 * CONNECT; but at most as many sockets again as the limit (and no fewer than a small backlog)
 * are held for that, and beyond it new sockets are destroyed unanswered, so a flood of
 * connections costs the broker no more than the limit it set.
 */
export class ConnectionAdmission {
  private open = 0
  private refusing = 0
  private readonly addresses: AddressTable | undefined
  private readonly refusalBacklog: number
  private readonly refusalBacklogPerAddress: number

  constructor (private readonly limits: AdmissionLimits, private readonly overloaded: () => boolean) {
    this.addresses = limits.maxConnectionsPerAddress > 0 || limits.maxConnectionRate > 0 ? new AddressTable(limits.maxConnectionRate) : undefined
    this.refusalBacklog = Math.max(limits.maxConnections, MIN_REFUSAL_BACKLOG)
    this.refusalBacklogPerAddress = Math.max(limits.maxConnectionsPerAddress, MIN_REFUSAL_BACKLOG_PER_ADDRESS)
  }

  /** Connections let in and still open. */
  get connections (): number {
    return this.open
  }

  /** Addresses remembered for the per-address limits. */
  get trackedAddresses (): number {
    return this.addresses?.size ?? 0
  }

  /** Whether `admit` needs the client's address: only for the per-address limits (it costs a system call). */
  get needsAddresses (): boolean {
    return this.addresses !== undefined
  }

  /** `address` may be left out when `needsAddresses` is false. */
  admit (address?: string): Admission {
    const entry = address === undefined ? undefined : this.addresses?.entryFor(address, performance.now())
    const refusal = this.refusalFor(address, entry)
    if (refusal === undefined) {
      this.open++
      if (entry !== undefined) entry.open++
      return { kind: 'admitted', ticket: { admitted: true, released: false, entry } }
    }
    if (this.refusing >= this.refusalBacklog || (entry !== undefined && entry.refusing >= this.refusalBacklogPerAddress)) {
      return { kind: 'dropped', refusal }
    }
    this.refusing++
    if (entry !== undefined) entry.refusing++
    return { kind: 'refused', ticket: { admitted: false, released: false, entry }, refusal }
  }

  /** The socket of `ticket` closed. */
  release (ticket: AdmissionTicket): void {
    if (ticket.released) return
    ticket.released = true
    if (ticket.admitted) {
      this.open--
      if (ticket.entry !== undefined) ticket.entry.open--
    } else {
      this.refusing--
      if (ticket.entry !== undefined) ticket.entry.refusing--
    }
  }

  stop (): void {
    this.addresses?.stop()
  }

  /** Every attempt spends from its address's rate budget, so a client cannot retry its way past a refusal. */
  private refusalFor (address: string | undefined, entry: AddressEntry | undefined): AdmissionRefusal | undefined {
    const { maxConnections, maxConnectionsPerAddress, maxConnectionRate } = this.limits
    if (entry?.bucket !== undefined && !entry.bucket.trySpend(1, performance.now())) {
      return { limit: 'max-connection-rate', reasonCode: ReasonCode.ConnectionRateExceeded, detail: `${address} opens more than max-connection-rate ${maxConnectionRate} connections a second` }
    }
    if (maxConnections > 0 && this.open >= maxConnections) {
      return { limit: 'max-connections', reasonCode: ReasonCode.ServerBusy, detail: `the broker holds max-connections ${maxConnections} connections` }
    }
    if (this.overloaded()) {
      return { limit: 'memory-watermark', reasonCode: ReasonCode.ServerBusy, detail: 'the broker\'s memory is above memory-watermark' }
    }
    if (entry !== undefined && maxConnectionsPerAddress > 0 && entry.open >= maxConnectionsPerAddress) {
      return { limit: 'max-connections-per-address', reasonCode: ReasonCode.QuotaExceeded, detail: `${address} holds max-connections-per-address ${maxConnectionsPerAddress} connections` }
    }
    return undefined
  }
}
