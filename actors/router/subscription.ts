import type { QoS } from 'mqtt-packet'

/** One topic filter a session subscribed to, with the options it asked for. */
export interface Subscription {
  readonly filter: string
  /** The maximum QoS granted for this filter. */
  readonly qos: QoS
  /** v5: do not send the subscriber its own publications back. */
  readonly noLocal: boolean
  /** v5: keep the publisher's retain flag on forwarded messages. */
  readonly retainAsPublished: boolean
  /** v5: 0 send retained on subscribe, 1 only if the subscription is new, 2 never. */
  readonly retainHandling: 0 | 1 | 2
  /** v5 subscription identifier, echoed on every delivery it causes. */
  readonly subscriptionId?: number
}

export function subscriptionOf (filter: string, qos: QoS, options: Partial<Omit<Subscription, 'filter' | 'qos'>> = {}): Subscription {
  return {
    filter,
    qos,
    noLocal: options.noLocal ?? false,
    retainAsPublished: options.retainAsPublished ?? false,
    retainHandling: options.retainHandling ?? 0,
    ...(options.subscriptionId !== undefined ? { subscriptionId: options.subscriptionId } : {})
  }
}
