import type { Session } from '../session/session.js'
import type { Message } from './message.js'
import type { Match } from './subscription-index.js'

/**
 * Hands `message` to every matched session, once each, at min(publish QoS, granted QoS)
 * [MQTT-3.3.5-1][MQTT-3.8.4-6]. A forwarded message loses its retain flag unless the
 * subscription asked to keep it [MQTT-3.3.1-9]. Returns how many sessions it went to.
 */
export function fanOut (matches: ReadonlyArray<Match<Session>>, message: Message): number {
  let delivered = 0
  for (const match of matches) {
    const { subscriber, subscription } = match
    if (subscription.noLocal && message.origin === subscriber.clientId) continue
    subscriber.deliver({
      message,
      qos: message.qos < match.qos ? message.qos : match.qos,
      retain: message.retain && subscription.retainAsPublished,
      subscriptionIds: match.subscriptionIds,
      sharedGroup: match.sharedGroup
    })
    delivered++
  }
  return delivered
}
