import type { QoS } from 'mqtt-packet'
import type { StateValue } from 'xstate'

/** One connection as the monitor lists it: who, from where, in which state, holding what. */
export interface ConnectionSummary {
  /** Empty until CONNECT is accepted. */
  readonly clientId: string
  readonly address: string
  /** 'MQTT 3.1', 'MQTT 3.1.1' or 'MQTT 5.0'; empty before CONNECT. */
  readonly protocol: string
  readonly username: string | undefined
  /** The machine's current state, dotted: `awaitingConnect`, `connected.serving`, ... */
  readonly state: string
  /** Seconds; 0 means none. */
  readonly keepAlive: number
  readonly inflight: number
  readonly queued: number
  readonly subscriptions: number
  /** Epoch ms. */
  readonly connectedAt: number
}

/** One event the connection's machine handled, and the state it left the machine in. */
export interface TrailEntry {
  /** Epoch ms. */
  readonly at: number
  readonly event: string
  readonly state: string
}

/** A connection in full, for its own page. */
export interface ConnectionDetail extends ConnectionSummary {
  readonly cleanStart: boolean
  /** Seconds the session outlives the connection (MQTT 3: 0 for a clean session, never for a persistent one). */
  readonly sessionExpiry: number
  readonly willTopic: string | undefined
  readonly subscriptionList: ReadonlyArray<{ readonly filter: string, readonly qos: QoS, readonly subscriptionId?: number }>
  /** Messages sent and not yet acknowledged, oldest first. */
  readonly inflightMessages: ReadonlyArray<{ readonly packetId: number, readonly topic: string, readonly qos: QoS, readonly state: string, readonly bytes: number }>
  /** The first queued messages, oldest first (`queued` says how many there are). */
  readonly queuedMessages: ReadonlyArray<{ readonly topic: string, readonly qos: QoS, readonly bytes: number }>
  /** The machine's last events, oldest first. */
  readonly trail: readonly TrailEntry[]
}

/** `{ connected: 'serving' }` as `connected.serving`. */
export function stateName (value: StateValue): string {
  if (typeof value === 'string') return value
  return Object.entries(value).map(([parent, child]) => child === undefined ? parent : `${parent}.${stateName(child)}`).join(',')
}
