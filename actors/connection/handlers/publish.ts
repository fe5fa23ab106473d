import { isUtf8 } from 'node:buffer'
import type { IPublishPacket } from 'mqtt-packet'
import { createMessage, type MessageProperties } from '../../router/message.js'
import { hasWildcard, topicNameProblem } from '../../router/topic-rules.js'
import { AwaitingPermission } from '../awaiting-permission.js'
import { closeReason, type CloseReason } from '../close-reason.js'
import type { ConnectionLink } from '../connection-link.js'
import { acknowledgement } from '../protocol/acknowledgement.js'
import { mayPublish } from '../publish-permission.js'
import { ReasonCode } from '../protocol/reason-codes.js'
import { topicLimitOf, type TopicLimitKind } from '../limits/topic-limits.js'

/**
 * PUBLISH from a client: route it, then acknowledge by its QoS. QoS 2 is exactly once: the
 * packet id waits in `awaitingRelease` until PUBREL, and a re-sent PUBLISH with that id is
 * acknowledged again without being routed again [MQTT-4.3.3-2]. MQTT 5 adds topic aliases,
 * the broker's Receive Maximum and property checks, and reason codes on the acknowledgement.
 * A message the client may not publish (its authorization, or any `$SYS` topic) is dropped.
 */
export function handlePublish (link: ConnectionLink, packet: IPublishPacket): CloseReason | AwaitingPermission | undefined {
  const { session, broker, protocol } = link
  if (packet.qos > 0 && !packet.messageId) return closeReason('protocol-error', 'PUBLISH with QoS > 0 and packet id 0 [MQTT-2.3.1-1]')

  let topic = packet.topic
  let properties: MessageProperties | undefined
  if (protocol.reasonCodes && packet.properties !== undefined) {
    const { topicAlias, subscriptionIdentifier, ...forwarded } = packet.properties
    if (subscriptionIdentifier !== undefined) return closeReason('protocol-error', 'a client PUBLISH carries a Subscription Identifier [MQTT-3.3.4-6]')
    if (forwarded.responseTopic !== undefined && (forwarded.responseTopic.length === 0 || hasWildcard(forwarded.responseTopic))) {
      return closeReason('protocol-error', 'Response Topic is not a valid topic name [MQTT-3.3.2-13]')
    }
    const resolved = link.topicAliases.resolve(topic, topicAlias)
    if ('problem' in resolved) {
      return resolved.problem === 'alias-out-of-range'
        ? closeReason('topic-alias-invalid', `Topic Alias ${String(topicAlias)} is outside 1..${link.topicAliases.inboundMaximum} [MQTT-3.3.2-9]`)
        : closeReason('protocol-error', `Topic Alias ${String(topicAlias)} was never set up on this connection [MQTT-3.3.4-3]`)
    }
    topic = resolved.topic
    properties = forwarded as MessageProperties
  }
  const problem = topicNameProblem(topic, broker.settings.topicLimits)
  const overLimit = topicLimitOf(problem)
  if (overLimit !== undefined) return refuseTopicOverLimit(link, packet, topic, overLimit)
  if (problem !== undefined) return closeReason('protocol-error', `PUBLISH topic "${topic}" is invalid: ${problem} [MQTT-3.3.2-2]`)

  const messageId = packet.messageId!
  if (packet.qos === 2 && session.awaitingRelease.has(messageId)) {
    link.acknowledge(acknowledgement(protocol, 'pubrec', messageId))
    return undefined
  }
  if (protocol.reasonCodes && packet.qos === 2 && session.awaitingRelease.size >= broker.settings.receiveMaximum) {
    return closeReason('receive-maximum-exceeded', `more than ${broker.settings.receiveMaximum} QoS 2 messages awaiting PUBREL [MQTT-3.3.4-7]`)
  }
  const permitted = link.permission('publish', topic, () => mayPublish(broker, { clientId: link.clientId, username: link.connect.username }, topic, packet.qos, packet.retain))
  // An auth provider deciding later: this packet and those behind it wait (nothing was changed yet).
  if (typeof permitted !== 'boolean') return new AwaitingPermission(permitted)
  if (!permitted) {
    // Dropped. v5 says why on PUBACK/PUBREC; v3 cannot, so the message is acknowledged as
    // usual [MQTT-3.3.5-2] (as Mosquitto does), and a QoS 2 id is not held: PUBREL finds nothing.
    if (broker.log.isLevelEnabled('debug')) broker.log.debug({ clientId: link.clientId, username: link.connect.username, topic, qos: packet.qos }, 'publish refused: not authorized')
    acknowledge(link, packet.qos, messageId, ReasonCode.NotAuthorized)
    return undefined
  }
  const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload
  if (properties?.payloadFormatIndicator === true && !isUtf8(payload)) {
    // The publisher said the payload is UTF-8 and it is not [MQTT-3.3.2-4].
    if (packet.qos === 0) return closeReason('payload-format-invalid', 'payload marked as UTF-8 is not')
    acknowledge(link, packet.qos, messageId, ReasonCode.PayloadFormatInvalid)
    return undefined
  }

  broker.counters.messagesReceived++
  const delivered = broker.router.publish(createMessage({
    topic,
    payload,
    qos: packet.qos,
    retain: packet.retain,
    properties,
    origin: link.clientId
  }))
  if (packet.qos === 2) session.holdInbound(messageId)
  acknowledge(link, packet.qos, messageId, delivered === 0 ? ReasonCode.NoMatchingSubscribers : ReasonCode.Success)
  return undefined
}

/**
 * A topic over max-topic-length or max-topic-levels is well formed, only refused and not
 * routed: an MQTT 5 QoS 1/2 PUBLISH gets PUBACK/PUBREC 0x90 Topic Name invalid and the
 * connection stays [MQTT-3.4.2-1]; QoS 0 has no acknowledgement to say it, so the client gets
 * DISCONNECT 0x90; MQTT 3 has no way to refuse a PUBLISH, so the connection closes (and its
 * will, as for any end the client did not ask for, is published) rather than drop it unseen.
 */
function refuseTopicOverLimit (link: ConnectionLink, packet: IPublishPacket, topic: string, limit: TopicLimitKind): CloseReason | undefined {
  const detail = `PUBLISH topic is over ${limit} (${link.broker.settings.topicLimits[limit === 'max-topic-length' ? 'maxLength' : 'maxLevels']})`
  link.broker.limitReached(limit, { clientId: link.clientId, address: link.remoteAddress, topicStart: topic.slice(0, 64), detail })
  if (link.protocol.reasonCodes && packet.qos > 0) {
    acknowledge(link, packet.qos, packet.messageId!, ReasonCode.TopicNameInvalid)
    return undefined
  }
  return closeReason('topic-name-invalid', detail)
}

/** PUBACK for QoS 1, PUBREC for QoS 2, once what routing wrote to the store is durable. */
function acknowledge (link: ConnectionLink, qos: number, messageId: number, reasonCode: number): void {
  if (qos === 0) return
  link.acknowledge(acknowledgement(link.protocol, qos === 1 ? 'puback' : 'pubrec', messageId, reasonCode))
}
