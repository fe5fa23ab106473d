import type { InspectionEvent, StateValue } from 'xstate'
import { stateName } from '../actors/connection/connection-summary.js'

/** One thing a connection's machine did, as the inspector shows it. */
export interface InspectedStep {
  /** Epoch ms. */
  readonly at: number
  readonly kind: 'event' | 'transition' | 'action'
  /** The event's type, or the action's. */
  readonly name: string
  /** For transitions: the state the machine is in after it, dotted. */
  readonly state?: string
  /** For transitions: the ids of the state nodes it is in, to highlight on the chart. */
  readonly activeIds?: readonly string[]
}

/** Steps kept per machine. */
const STEPS_KEPT = 200
/** Machines followed at once; the oldest is forgotten beyond it. */
const MACHINES_KEPT = 5_000

/**
 * The state-machine inspector of dev mode (`--inspect`): it receives xstate's inspection
 * events for every connection actor (the supervisor's actor system is inspected) and keeps each
 * machine's last steps, for the monitor to draw and stream. Off, xstate is given no inspect
 * callback at all, so inspection costs nothing.
 */
export class MachineInspector {
  private readonly steps = new Map<string, InspectedStep[]>()
  private readonly listeners = new Map<string, Set<(step: InspectedStep) => void>>()

  /** The `inspect` callback for createActor. */
  readonly observe = (event: InspectionEvent): void => {
    const sessionId = event.actorRef.sessionId
    const step = stepOf(event)
    if (step === undefined) return
    let steps = this.steps.get(sessionId)
    if (steps === undefined) {
      if (this.steps.size >= MACHINES_KEPT) this.steps.delete(this.steps.keys().next().value!)
      this.steps.set(sessionId, steps = [])
    }
    steps.push(step)
    if (steps.length > STEPS_KEPT) steps.shift()
    for (const listener of this.listeners.get(sessionId) ?? []) listener(step)
  }

  /** The machine's kept steps, oldest first. */
  history (sessionId: string): readonly InspectedStep[] {
    return this.steps.get(sessionId) ?? []
  }

  /** Calls `listener` with each new step of the machine until the returned function is called. */
  follow (sessionId: string, listener: (step: InspectedStep) => void): () => void {
    let set = this.listeners.get(sessionId)
    if (set === undefined) this.listeners.set(sessionId, set = new Set())
    set.add(listener)
    return () => {
      set.delete(listener)
      if (set.size === 0) this.listeners.delete(sessionId)
    }
  }
}

function stepOf (event: InspectionEvent): InspectedStep | undefined {
  const at = Date.now()
  switch (event.type) {
    case '@xstate.event':
      return { at, kind: 'event', name: event.event.type }
    case '@xstate.microstep': {
      const snapshot = event.snapshot as { value?: StateValue, machine?: { id: string } }
      if (snapshot.value === undefined) return undefined
      return { at, kind: 'transition', name: event.event.type, state: stateName(snapshot.value), activeIds: activeStateIds(snapshot.machine?.id ?? '', snapshot.value) }
    }
    case '@xstate.action':
      return { at, kind: 'action', name: event.action.type }
    default:
      return undefined
  }
}

/** The ids of the state nodes a machine is in: `{ connected: 'serving' }` in `connection` is `connection.connected` and `connection.connected.serving`. */
export function activeStateIds (machineId: string, value: StateValue): string[] {
  if (typeof value === 'string') return [`${machineId}.${value}`]
  return Object.entries(value).flatMap(([parent, child]) => {
    const id = `${machineId}.${parent}`
    return child === undefined ? [id] : [id, ...activeStateIds(id, child)]
  })
}
