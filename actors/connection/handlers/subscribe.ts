import type { ISubscribePacket, QoS } from 'mqtt-packet'
import { subscriptionOf } from '../../router/subscription.js'
import { parseSharedFilter, SHARED_PREFIX, topicFilterProblem } from '../../router/topic-rules.js'
import { AwaitingPermission } from '../awaiting-permission.js'
import { enforcedAuthorizer } from '../authorizer.js'
import { closeReason, type CloseReason } from '../close-reason.js'
import type { ConnectionLink } from '../connection-link.js'
import { ReasonCode, subackCode } from '../protocol/reason-codes.js'
import { topicLimitOf } from '../limits/topic-limits.js'

/** The highest QoS the broker grants. */
const MAXIMUM_QOS: QoS = 2

/**
 * SUBSCRIBE: add or replace each subscription, answer SUBACK with one code per filter in
 * order [MQTT-3.8.4-1][MQTT-3.9.3-1], then send the retained messages the new subscriptions
 * match, with the retain flag set [MQTT-3.3.1-8]. Replacing a subscription re-sends its
 * retained messages [MQTT-3.8.4-3]. A filter the client may not subscribe to fails (v3 0x80,
 * v5 0x87, or 0x80 with subscribe-denied-reason: unspecified); a granted one still only
 * brings the messages the client may read (Connection.sendPublish).
 */
export function handleSubscribe (link: ConnectionLink, packet: ISubscribePacket): CloseReason | AwaitingPermission | undefined {
  if (!packet.messageId) return closeReason('protocol-error', 'SUBSCRIBE with packet id 0 [MQTT-2.3.1-1]')
  if (packet.subscriptions.length === 0) return closeReason('protocol-error', 'SUBSCRIBE with no topic filter [MQTT-3.8.3-3]')
  const { session, broker, protocol } = link
  const subscriptionId = protocol.reasonCodes ? packet.properties?.subscriptionIdentifier : undefined
  if (subscriptionId === 0) return closeReason('protocol-error', 'Subscription Identifier 0 [MQTT-3.8.2-1 (v5)]')
  const permitted = permissions(link, packet)
  if (!Array.isArray(permitted)) return permitted
  const codes: number[] = []
  const granted: Array<{ filter: string, qos: QoS, isNew: boolean, retainHandling: number }> = []
  for (const [index, request] of packet.subscriptions.entries()) {
    const allowed = permitted[index]
    if (allowed === undefined) {
      // Over max-topic-length / max-topic-levels: refused like an invalid filter, and counted.
      const problem = topicFilterProblem(request.topic, broker.settings.topicLimits)
      const overLimit = topicLimitOf(problem)
      if (overLimit !== undefined) broker.limitReached(overLimit, { clientId: link.clientId, address: link.remoteAddress, filterStart: request.topic.slice(0, 64) })
      else broker.log.debug({ clientId: link.clientId, filter: request.topic, problem }, 'subscription refused: invalid topic filter')
      codes.push(subackCode(protocol, ReasonCode.TopicFilterInvalid))
      continue
    }
    if (!allowed) {
      broker.log.debug({ clientId: link.clientId, username: link.connect.username, filter: request.topic }, 'subscription refused: not authorized')
      codes.push(subackCode(protocol, broker.settings.subscribeDeniedReason))
      continue
    }
    // Replacing a subscription the session holds never counts against max-subscriptions.
    const { maxSubscriptions } = broker.settings
    if (maxSubscriptions > 0 && session.subscriptions.size >= maxSubscriptions && !session.subscriptions.has(request.topic)) {
      broker.limitReached('max-subscriptions', { clientId: link.clientId, address: link.remoteAddress, filterStart: request.topic.slice(0, 64), maxSubscriptions })
      codes.push(subackCode(protocol, ReasonCode.QuotaExceeded))
      continue
    }
    const shared = request.topic.startsWith(SHARED_PREFIX)
    const qos = (request.qos < MAXIMUM_QOS ? request.qos : MAXIMUM_QOS) as QoS
    const subscription = subscriptionOf(request.topic, qos, {
      noLocal: request.nl ?? false,
      retainAsPublished: request.rap ?? false,
      retainHandling: (request.rh ?? 0) as 0 | 1 | 2,
      subscriptionId
    })
    const isNew = !session.subscriptions.has(request.topic)
    session.subscriptions.set(request.topic, subscription)
    broker.router.subscribe(session, subscription)
    codes.push(qos)
    // Retained messages are not sent for shared subscriptions [MQTT-3.8.4-? (v5) 4.8.2].
    if (!shared) granted.push({ filter: request.topic, qos, isNew, retainHandling: subscription.retainHandling })
  }
  if (session.persistent && granted.length > 0) broker.saveSession(session.clientId)
  // SUBACK once a durable session's new subscriptions are written; the retained messages after it.
  link.acknowledge({ cmd: 'suback', messageId: packet.messageId, granted: codes }, () => {
    for (const { filter, qos, isNew, retainHandling } of granted) {
      if (retainHandling === 2 || (retainHandling === 1 && !isNew)) continue
      for (const message of broker.router.retainedFor(filter)) {
        session.deliver({ message, qos: message.qos < qos ? message.qos : qos, retain: true })
      }
    }
  })
  return undefined
}

/**
 * Whether the client may subscribe to each filter (undefined: the filter is invalid or over
 * the topic limits, and the authorizer is not asked about it), all
 * decided before any subscription changes: when an auth provider answers later, the packet
 * waits and is handled again from the start. A protocol error in any filter closes instead.
 * A shared subscription is authorized by the filter after its share name.
 */
function permissions (link: ConnectionLink, packet: ISubscribePacket): Array<boolean | undefined> | CloseReason | AwaitingPermission {
  const authorizer = enforcedAuthorizer(link.broker.authorizer)
  const permitted: Array<boolean | undefined> = []
  const waiting: Array<Promise<boolean>> = []
  for (const request of packet.subscriptions) {
    if (topicFilterProblem(request.topic, link.broker.settings.topicLimits) !== undefined) {
      permitted.push(undefined)
      continue
    }
    const shared = request.topic.startsWith(SHARED_PREFIX)
    if (shared && request.nl === true && link.protocol.reasonCodes) {
      return closeReason('protocol-error', 'No Local on a shared subscription [MQTT-3.8.3-4 (v5)]')
    }
    if (authorizer === undefined) {
      permitted.push(true)
      continue
    }
    const filter = shared ? parseSharedFilter(request.topic)!.filter : request.topic
    const answer = link.permission('subscribe', filter, () => authorizer.authorizeSubscribe({ clientId: link.clientId, username: link.connect.username, filter }))
    if (typeof answer === 'boolean') {
      permitted.push(answer)
    } else {
      waiting.push(answer)
      permitted.push(false)
    }
  }
  return waiting.length > 0 ? new AwaitingPermission(Promise.all(waiting)) : permitted
}
