import type { Delivery } from './delivery.js'

/**
 * Outbound QoS 1/2 messages sent and not yet acknowledged, keyed by packet id in the order
 * they were sent, so a resumed session re-sends them in that order [MQTT-4.4.0-1].
 *
 *   QoS 1: awaitingPuback --PUBACK--> gone
 *   QoS 2: awaitingPubrec --PUBREC--> awaitingPubcomp (PUBREL sent) --PUBCOMP--> gone
 */
export type InflightState = 'awaitingPuback' | 'awaitingPubrec' | 'awaitingPubcomp'

export interface InflightEntry {
  readonly packetId: number
  readonly delivery: Delivery
  state: InflightState
}

export class Inflight {
  private readonly entries = new Map<number, InflightEntry>()

  constructor (public capacity: number) {}

  get size (): number {
    return this.entries.size
  }

  get isFull (): boolean {
    return this.entries.size >= this.capacity
  }

  has (packetId: number): boolean {
    return this.entries.has(packetId)
  }

  get (packetId: number): InflightEntry | undefined {
    return this.entries.get(packetId)
  }

  add (packetId: number, delivery: Delivery): InflightEntry {
    const entry: InflightEntry = { packetId, delivery, state: delivery.qos === 1 ? 'awaitingPuback' : 'awaitingPubrec' }
    this.entries.set(packetId, entry)
    return entry
  }

  /** Puts back an entry the store held at start, in its saved state (even past the capacity). */
  restore (packetId: number, delivery: Delivery, state: InflightState): void {
    this.entries.set(packetId, { packetId, delivery, state })
  }

  delete (packetId: number): boolean {
    return this.entries.delete(packetId)
  }

  clear (): void {
    this.entries.clear()
  }

  values (): IterableIterator<InflightEntry> {
    return this.entries.values()
  }
}
