import type { StateValue } from 'xstate'
import { stateName, type TrailEntry } from './connection-summary.js'

/** How many of a connection's last machine events the monitor can show. */
const TRAIL_LENGTH = 32

/**
 * The last events a connection's machine handled, in a fixed ring: a connection pays a few
 * array writes per event (one event per socket chunk, not per packet), and the event and the
 * state are only turned into text when someone looks.
 */
export class EventTrail {
  private readonly at = new Float64Array(TRAIL_LENGTH)
  private readonly events: string[] = []
  /** For a chunk of packets: the first one's type, and how many there were. */
  private readonly firstPackets: Array<string | undefined> = []
  private readonly packetCounts = new Uint32Array(TRAIL_LENGTH)
  private readonly states: StateValue[] = []
  private next = 0
  private count = 0

  /** Notes `event` (with, for a chunk, its first packet's type and the number of packets) and the state it left. */
  record (event: string, state: StateValue, firstPacket?: string, packets = 0): void {
    const slot = this.next
    this.at[slot] = Date.now()
    this.events[slot] = event
    this.firstPackets[slot] = firstPacket
    this.packetCounts[slot] = packets
    this.states[slot] = state
    this.next = (slot + 1) % TRAIL_LENGTH
    if (this.count < TRAIL_LENGTH) this.count++
  }

  /** Oldest first. */
  entries (): TrailEntry[] {
    const entries: TrailEntry[] = []
    for (let i = 0; i < this.count; i++) {
      const slot = (this.next - this.count + i + TRAIL_LENGTH) % TRAIL_LENGTH
      entries.push({ at: this.at[slot]!, event: describe(this.events[slot]!, this.firstPackets[slot], this.packetCounts[slot]!), state: stateName(this.states[slot]!) })
    }
    return entries
  }
}

/** `packets.received: CONNECT`, `packets.received: 3 (PUBLISH, ...)`, or the event's type. */
function describe (event: string, firstPacket: string | undefined, packets: number): string {
  if (firstPacket === undefined) return event
  const first = firstPacket.toUpperCase()
  return packets === 1 ? `${event}: ${first}` : `${event}: ${packets} (${first}, ...)`
}
