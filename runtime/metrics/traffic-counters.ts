import type { TrafficCounters } from '../../actors/connection/broker-services.js'

export function createTrafficCounters (): TrafficCounters {
  return {
    messagesReceived: 0,
    messagesSent: 0,
    bytesReceived: 0,
    bytesSent: 0,
    packetsReceived: {},
    dropped: { 'queue-full': 0, backpressure: 0, offline: 0, expired: 0, 'too-large': 0, 'not-authorized': 0 },
    connectionsAccepted: 0,
    connectionsRefused: 0
  }
}
