import mqttPacket from 'mqtt-packet'

/** MQTT protocol level on the wire: 4 is 3.1.1, 5 is 5.0. */
export type MqttVersion = 4 | 5

/**
 * Whether a client's session ends with its connection ('clean') or outlives it
 * ('persistent'): only a persistent session's QoS 1/2 messages are kept, and journaled by a
 * broker with a durable store.
 */
export type SessionKind = 'clean' | 'persistent'

/** Session Expiry Interval of a persistent MQTT 5.0 session: anything above 0 keeps it; an hour outlasts any run. */
const PERSISTENT_SESSION_EXPIRY_SECONDS = 3600

/**
 * Packets the load generators send, encoded once with mqtt-packet and then reused as bytes:
 * the load side must not spend per message what the broker under test spends.
 */
export function encodeConnect (clientId: string, version: MqttVersion, keepalive: number, session: SessionKind = 'clean'): Buffer {
  const persistent = session === 'persistent'
  return mqttPacket.generate({
    cmd: 'connect',
    protocolId: 'MQTT',
    protocolVersion: version,
    clientId,
    // 3.1.1: clean session 0 is what keeps the session. 5.0: Clean Start 0 only resumes one;
    // what keeps it after the connection is a Session Expiry Interval above 0.
    clean: !persistent,
    keepalive,
    ...(persistent && version === 5 ? { properties: { sessionExpiryInterval: PERSISTENT_SESSION_EXPIRY_SECONDS } } : {})
  }, { protocolVersion: version })
}

export function encodeSubscribe (filter: string, qos: 0 | 1, version: MqttVersion): Buffer {
  return mqttPacket.generate({
    cmd: 'subscribe',
    messageId: 1,
    subscriptions: [{ topic: filter, qos }]
  }, { protocolVersion: version })
}

export function encodeDisconnect (version: MqttVersion): Buffer {
  return mqttPacket.generate({ cmd: 'disconnect' }, { protocolVersion: version })
}

/** A PUBLISH template, with where its packet id sits so that QoS 1 copies can be patched in place. */
export interface PublishTemplate {
  readonly bytes: Buffer
  /** Offset of the 2-byte packet id (QoS 1 only; -1 for QoS 0). */
  readonly packetIdOffset: number
}

export function encodePublish (topic: string, payload: Buffer, qos: 0 | 1, version: MqttVersion): PublishTemplate {
  const bytes = mqttPacket.generate({
    cmd: 'publish',
    topic,
    payload,
    qos,
    retain: false,
    dup: false,
    messageId: qos > 0 ? 1 : undefined
  }, { protocolVersion: version })
  if (qos === 0) return { bytes, packetIdOffset: -1 }
  // The id follows the topic in both 3.1.1 and 5.0: fixed header, 2-byte topic length, topic, id.
  let headerEnd = 1
  while ((bytes[headerEnd++]! & 0x80) !== 0);
  return { bytes, packetIdOffset: headerEnd + 2 + Buffer.byteLength(topic) }
}

/** `count` copies of `packet` back to back: one socket write then carries a whole batch. */
export function repeat (packet: Buffer, count: number): Buffer {
  const batch = Buffer.allocUnsafe(packet.length * count)
  for (let i = 0; i < count; i++) packet.copy(batch, i * packet.length)
  return batch
}

/**
 * PUBACK for `packetId`. Written into `target` by hand because the QoS 1 subscriber sends one
 * per message; a 2-byte remaining length is valid in 5.0 too (reason code 0 may be omitted).
 */
export function writePuback (target: Buffer, offset: number, packetId: number): number {
  target[offset] = 0x40
  target[offset + 1] = 2
  target[offset + 2] = packetId >> 8
  target[offset + 3] = packetId & 0xff
  return offset + 4
}
