import type { IPublishPacket } from 'mqtt-packet'
import { createMessage } from '../../router/message.js'
import { topicNameProblem } from '../../router/topic-rules.js'
import { closeReason, type CloseReason } from '../close-reason.js'
import type { ConnectionLink } from '../connection-link.js'

/**
 * PUBLISH from a client: route it, then acknowledge by its QoS. QoS 2 is exactly once: the
 * packet id waits in `awaitingRelease` until PUBREL, and a re-sent PUBLISH with that id is
 * acknowledged again without being routed again [MQTT-4.3.3-2].
 */
export function handlePublish (link: ConnectionLink, packet: IPublishPacket): CloseReason | undefined {
  const problem = topicNameProblem(packet.topic)
  if (problem !== undefined) return closeReason('protocol-error', `PUBLISH topic "${packet.topic}" is invalid: ${problem} [MQTT-3.3.2-2]`)
  if (packet.qos > 0 && !packet.messageId) return closeReason('protocol-error', 'PUBLISH with QoS > 0 and packet id 0 [MQTT-2.3.1-1]')

  const { session, broker } = link
  if (packet.qos === 2 && session.awaitingRelease.has(packet.messageId!)) {
    link.send({ cmd: 'pubrec', messageId: packet.messageId! })
    return undefined
  }
  broker.counters.messagesReceived++
  const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload
  broker.router.publish(createMessage({
    topic: packet.topic,
    payload,
    qos: packet.qos,
    retain: packet.retain,
    origin: link.clientId
  }))
  if (packet.qos === 1) {
    link.send({ cmd: 'puback', messageId: packet.messageId! })
  } else if (packet.qos === 2) {
    session.awaitingRelease.add(packet.messageId!)
    link.send({ cmd: 'pubrec', messageId: packet.messageId! })
  }
  return undefined
}
