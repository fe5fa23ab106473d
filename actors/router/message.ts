import type { QoS } from 'mqtt-packet'
import type { UserPropertyList } from '../connection/protocol/property-rules.js'

/** The v5 PUBLISH properties that travel with a message from publisher to subscribers. */
export interface MessageProperties {
  readonly payloadFormatIndicator?: boolean
  readonly messageExpiryInterval?: number
  readonly contentType?: string
  readonly responseTopic?: string
  readonly correlationData?: Buffer
  /** In the order the publisher sent them [MQTT-3.3.2-18]. */
  readonly userProperties?: UserPropertyList
}

/**
 * An application message as the router sees it: what a publisher sent, independent of who
 * receives it and with which packet id. Treated as immutable once routed.
 */
export interface Message {
  readonly topic: string
  readonly payload: Buffer
  readonly qos: QoS
  readonly retain: boolean
  readonly properties?: MessageProperties
  /** Client id of the publisher, or undefined for messages the broker itself publishes. */
  readonly origin?: string
  /** Epoch milliseconds at which the broker received it. */
  readonly receivedAt: number
}

export function createMessage (fields: Omit<Message, 'receivedAt'> & { receivedAt?: number }): Message {
  // Spelled out rather than spread: this runs once per publish, and every message then has
  // the same object shape, which keeps the fan-out code monomorphic.
  return {
    topic: fields.topic,
    payload: fields.payload,
    qos: fields.qos,
    retain: fields.retain,
    properties: fields.properties,
    origin: fields.origin,
    receivedAt: fields.receivedAt ?? Date.now()
  }
}

/**
 * Seconds left of a message's v5 Message Expiry Interval: undefined when it has none, 0 or
 * less when it has expired and must not be delivered [MQTT-3.3.2-5 (v5)].
 */
export function remainingExpiry (message: Message, clock: () => number = Date.now): number | undefined {
  const interval = message.properties?.messageExpiryInterval
  // Most messages have no expiry: they never pay for reading the clock.
  if (interval === undefined) return undefined
  return interval - Math.floor((clock() - message.receivedAt) / 1000)
}
