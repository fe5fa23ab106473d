import mqttPacket, { type Packet, type PacketCmd } from 'mqtt-packet'
import type { SeededRandom } from './seeded-random.js'

/** The protocol levels the fuzzer speaks: 3 is MQTT 3.1 ("MQIsdp"), 4 is 3.1.1, 5 is 5.0. */
export type ProtocolLevel = 3 | 4 | 5

/** Every packet type, including the ones only a server may send: a client sending them is hostile too. */
export const PACKET_TYPES: readonly PacketCmd[] = [
  'connect', 'connack', 'publish', 'puback', 'pubrec', 'pubrel', 'pubcomp', 'subscribe', 'suback',
  'unsubscribe', 'unsuback', 'pingreq', 'pingresp', 'disconnect', 'auth'
]

// Client ids and topics come from small pools: the broker rightly keeps retained messages and
// persistent sessions, and unbounded names would make that legitimate state look like a leak.
const TOPIC_LEVELS = ['fuzz', 'a', 'b', 'sensors', 'room-1', 'ü', '$SYS', '']
const FILTER_LEVELS = [...TOPIC_LEVELS, '+', '#']
const CLIENT_IDS = 16

/** A well-formed packet of type `cmd`, with random but valid fields (and, for 5.0, random properties). */
export function validPacket (random: SeededRandom, cmd: PacketCmd, level: ProtocolLevel): Packet {
  const v5 = level === 5
  const messageId = random.between(1, 65535)
  switch (cmd) {
    case 'connect': return {
      cmd,
      protocolId: level === 3 ? 'MQIsdp' : 'MQTT',
      protocolVersion: level,
      ...clientIdentity(random, level),
      keepalive: random.pick([0, 1, 5, 60, 65535]),
      ...(random.chance(0.2) ? { username: 'user', password: random.bytes(random.below(8)) } : {}),
      ...(random.chance(0.3)
        ? {
            will: {
              topic: topic(random),
              payload: random.bytes(random.below(16)),
              qos: random.pick([0, 1, 2] as const),
              retain: random.chance(0.2),
              ...(v5 ? { properties: { willDelayInterval: random.below(3), messageExpiryInterval: random.below(100), contentType: 'text/plain', userProperties: userProperties(random) } } : {})
            }
          }
        : {}),
      ...(v5
        ? {
            properties: {
              sessionExpiryInterval: random.pick([0, 0, 1, 60]),
              receiveMaximum: random.between(1, 100),
              maximumPacketSize: random.pick([64, 1024, 268435455]),
              topicAliasMaximum: random.below(10),
              requestProblemInformation: random.chance(0.5),
              userProperties: userProperties(random),
              ...(random.chance(0.05) ? { authenticationMethod: random.pick(['SCRAM-SHA-256', 'nonsense']), authenticationData: random.bytes(8) } : {})
            }
          }
        : {})
    } as Packet
    case 'connack': return { cmd, sessionPresent: false, returnCode: 0, reasonCode: 0, ...(v5 ? { properties: { reasonString: 'hi' } } : {}) } as Packet
    case 'publish': {
      const qos = random.pick([0, 1, 2] as const)
      return {
        cmd,
        topic: topic(random),
        payload: random.bytes(random.pick([0, 1, 16, 200])),
        qos,
        retain: random.chance(0.1),
        dup: false,
        ...(qos > 0 ? { messageId } : {}),
        ...(v5 ? { properties: { payloadFormatIndicator: random.chance(0.5), messageExpiryInterval: random.below(60), ...(random.chance(0.3) ? { topicAlias: random.between(1, 5) } : {}), responseTopic: topic(random), correlationData: random.bytes(4), userProperties: userProperties(random), contentType: 'application/x' } } : {})
      } as Packet
    }
    case 'puback': case 'pubrec':
      return { cmd, messageId, ...(v5 ? { reasonCode: random.pick([0, 0x10, 0x80, 0x97]), properties: { reasonString: 'why', userProperties: userProperties(random) } } : {}) } as Packet
    case 'pubrel': case 'pubcomp':
      return { cmd, messageId, ...(v5 ? { reasonCode: random.pick([0, 0x92]), properties: { reasonString: 'why', userProperties: userProperties(random) } } : {}) } as Packet
    case 'subscribe': return {
      cmd,
      messageId,
      subscriptions: Array.from({ length: random.between(1, 3) }, () => ({
        topic: filter(random),
        qos: random.pick([0, 1, 2] as const),
        ...(v5 ? { nl: random.chance(0.3), rap: random.chance(0.3), rh: random.pick([0, 1, 2]) } : {})
      })),
      ...(v5 ? { properties: { subscriptionIdentifier: random.between(1, 1000), userProperties: userProperties(random) } } : {})
    } as Packet
    case 'suback': return { cmd, messageId, granted: [0, 1], ...(v5 ? { properties: { reasonString: 'ok' } } : {}) } as Packet
    case 'unsubscribe': return { cmd, messageId, unsubscriptions: [filter(random)], ...(v5 ? { properties: { userProperties: userProperties(random) } } : {}) } as Packet
    case 'unsuback': return { cmd, messageId, ...(v5 ? { granted: [0], properties: { reasonString: 'ok' } } : {}) } as Packet
    case 'pingreq': case 'pingresp': return { cmd } as Packet
    case 'disconnect': return { cmd, ...(v5 ? { reasonCode: random.pick([0, 4, 0x80]), properties: { sessionExpiryInterval: random.below(2), reasonString: 'bye', userProperties: userProperties(random) } } : {}) } as Packet
    case 'auth': return { cmd, reasonCode: random.pick([0, 0x18, 0x19]), properties: { authenticationMethod: 'SCRAM-SHA-256', authenticationData: random.bytes(12), reasonString: 'auth' } } as Packet
  }
}

/** The packet's bytes as a conforming client of `level` would send them. */
export function encode (packet: Packet, level: ProtocolLevel): Buffer {
  return mqttPacket.generate(packet, { protocolVersion: level })
}

/** The types that exist at `level`: AUTH is 5.0 only. */
export function typesAt (level: ProtocolLevel): readonly PacketCmd[] {
  return level === 5 ? PACKET_TYPES : PACKET_TYPES.filter(cmd => cmd !== 'auth')
}

/** A client id from the pool, or none (which MQTT 3.1.1 and 5.0 allow only with a clean session). */
function clientIdentity (random: SeededRandom, level: ProtocolLevel): { clientId: string, clean: boolean } {
  // Mostly clean sessions, so that the broker's session table stays as small as the id pool.
  const clean = random.chance(0.8)
  const anonymous = clean && level !== 3 && random.chance(0.1)
  return { clientId: anonymous ? '' : `fuzz-${random.below(CLIENT_IDS)}`, clean }
}

function topic (random: SeededRandom): string {
  return Array.from({ length: random.between(1, 4) }, () => random.pick(TOPIC_LEVELS)).join('/') || 'fuzz'
}

function filter (random: SeededRandom): string {
  return Array.from({ length: random.between(1, 4) }, () => random.pick(FILTER_LEVELS)).join('/') || 'fuzz'
}

// mqtt-packet cannot encode an empty user-property map (it silently yields no bytes): none, or some.
function userProperties (random: SeededRandom): Record<string, string | string[]> | undefined {
  return random.chance(0.5) ? undefined : { origin: 'fuzz', tag: ['x', 'y'] }
}
