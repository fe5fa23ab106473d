import type { QoS } from 'mqtt-packet'
import type { Session } from '../session/session.js'
import type { Message } from './message.js'
import type { Match } from './subscription-index.js'
import type { Subscription } from './subscription.js'

/**
 * Hands `message` to every matched session, once each, at min(publish QoS, granted QoS)
 * [MQTT-3.3.5-1][MQTT-3.8.4-6]. A forwarded message loses its retain flag unless the
 * subscription asked to keep it [MQTT-3.3.1-9]. Returns how many sessions it went to.
 */
export function fanOut (matches: ReadonlyArray<Match<Session>>, message: Message): number {
  let delivered = 0
  for (const match of matches) {
    const { subscriber } = match
    // The subscriber's own message goes only through its subscriptions without No Local.
    const route = message.origin === subscriber.clientId ? withoutNoLocal(match) : match
    if (route === undefined) continue
    subscriber.deliver({
      message,
      qos: message.qos < route.qos ? message.qos : route.qos,
      retain: message.retain && route.subscription.retainAsPublished,
      subscriptionIds: route.subscriptionIds,
      sharedGroup: match.sharedGroup
    })
    delivered++
  }
  return delivered
}

/** What a match delivers: the QoS, the subscription whose options apply, the identifiers. */
type Route = Pick<Match<Session>, 'qos' | 'subscription' | 'subscriptionIds'>

/**
 * `match` without the subscriptions that asked for No Local [MQTT-3.8.3-3 (v5)], or undefined
 * when every matching subscription did. One subscription (the common case) costs nothing.
 */
function withoutNoLocal (match: Match<Session>): Route | undefined {
  if (match.merged === undefined) return match.subscription.noLocal ? undefined : match
  let route: { qos: QoS, subscription: Subscription, subscriptionIds: number[] | undefined } | undefined
  for (const subscription of match.merged) {
    if (subscription.noLocal) continue
    route ??= { qos: subscription.qos, subscription, subscriptionIds: undefined }
    if (subscription.subscriptionId !== undefined) (route.subscriptionIds ??= []).push(subscription.subscriptionId)
    if (subscription.qos > route.qos) {
      route.qos = subscription.qos
      route.subscription = subscription
    }
  }
  return route
}
