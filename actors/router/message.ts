import type { QoS } from 'mqtt-packet'

/** The v5 PUBLISH properties that travel with a message from publisher to subscribers. */
export interface MessageProperties {
  readonly payloadFormatIndicator?: boolean
  readonly messageExpiryInterval?: number
  readonly contentType?: string
  readonly responseTopic?: string
  readonly correlationData?: Buffer
  readonly userProperties?: Readonly<Record<string, string | string[]>>
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
