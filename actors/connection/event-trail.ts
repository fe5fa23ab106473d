import type { StateValue } from 'xstate'
import { stateName, type TrailEntry } from './connection-summary.js'

/** How many of a connection's last machine events the monitor can show. */
const TRAIL_LENGTH = 32

/**
 * The last events a connection's machine handled, in a fixed ring: a connection pays one
 * array write per event (one per socket chunk, not per packet), and the state is only turned
 * into text when someone looks.
 */
export class EventTrail {
  private readonly at = new Float64Array(TRAIL_LENGTH)
  private readonly events: string[] = []
  private readonly states: StateValue[] = []
  private next = 0
  private count = 0

  record (event: string, state: StateValue): void {
    const slot = this.next
    this.at[slot] = Date.now()
    this.events[slot] = event
    this.states[slot] = state
    this.next = (slot + 1) % TRAIL_LENGTH
    if (this.count < TRAIL_LENGTH) this.count++
  }

  /** Oldest first. */
  entries (): TrailEntry[] {
    const entries: TrailEntry[] = []
    for (let i = 0; i < this.count; i++) {
      const slot = (this.next - this.count + i + TRAIL_LENGTH) % TRAIL_LENGTH
      entries.push({ at: this.at[slot]!, event: this.events[slot]!, state: stateName(this.states[slot]!) })
    }
    return entries
  }
}
