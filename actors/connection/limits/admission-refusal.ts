import type { LimitKind } from './limit-kind.js'

export type AdmissionLimit = Extract<LimitKind, 'max-connections' | 'max-connections-per-address' | 'max-connection-rate' | 'memory-watermark'>

/**
 * Why the broker decided, when it accepted a socket, not to let the client in: the
 * connection only waits for CONNECT to answer it with this reason, then closes.
 */
export interface AdmissionRefusal {
  readonly limit: AdmissionLimit
  /** v5 CONNACK reason code; MQTT 3 clients get its return code (3, Server unavailable). */
  readonly reasonCode: number
  readonly detail: string
}
