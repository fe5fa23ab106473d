import type { TrafficCounters } from '../../actors/connection/broker-services.js'
import { LIMIT_KINDS, type LimitKind } from '../../actors/connection/limits/limit-kind.js'

export function createTrafficCounters (): TrafficCounters {
  return {
    messagesReceived: 0,
    messagesSent: 0,
    bytesReceived: 0,
    bytesSent: 0,
    packetsReceived: {},
    dropped: { 'queue-full': 0, 'queue-bytes-full': 0, backpressure: 0, offline: 0, expired: 0, 'too-large': 0, 'not-authorized': 0 },
    connectionsAccepted: 0,
    connectionsRefused: 0,
    authFailures: 0,
    limited: Object.fromEntries(LIMIT_KINDS.map(kind => [kind, 0])) as Record<LimitKind, number>
  }
}
