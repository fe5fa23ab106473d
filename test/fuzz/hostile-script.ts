import type { PacketCmd } from 'mqtt-packet'
import { mutate } from './mutations.js'
import type { SeededRandom } from './seeded-random.js'
import { encode, typesAt, validPacket, type ProtocolLevel } from './valid-packets.js'

/** What one fuzz connection sends, decided before it connects, so a seed fixes it whatever the timing. */
export interface HostileScript {
  readonly level: ProtocolLevel
  /** The packets (whole, broken, or random bytes) in order; each counts as one packet sent. */
  readonly packets: readonly Buffer[]
  /** How the fuzzer leaves once it has sent them all. */
  readonly ending: 'half-close' | 'destroy' | 'linger'
}

// Weighted towards what clients really send, so that connections get past their first packets;
// the server-only types and a second CONNECT stay in, rarer, since each one ends the connection.
const AFTER_CONNECT: readonly PacketCmd[] = [
  'publish', 'publish', 'publish', 'publish', 'subscribe', 'subscribe', 'unsubscribe',
  'puback', 'pubrec', 'pubrel', 'pubcomp', 'pingreq', 'pingreq',
  'connect', 'connack', 'suback', 'unsuback', 'pingresp', 'disconnect', 'auth'
]

export function hostileScript (random: SeededRandom, maxPackets: number): HostileScript {
  const level = random.pick<ProtocolLevel>([3, 4, 4, 5, 5, 5])
  const packets: Buffer[] = [opening(random, level)]
  const count = Math.min(maxPackets - 1, random.between(0, 40))
  for (let i = 0; i < count; i++) packets.push(anyPacket(random, level))
  return { level, packets, ending: random.pick(['half-close', 'destroy', 'linger'] as const) }
}

/** A valid or broken CONNECT, or something else where CONNECT belongs. */
function opening (random: SeededRandom, level: ProtocolLevel): Buffer {
  const roll = random.next()
  const connect = encode(validPacket(random, 'connect', level), level)
  if (roll < 0.55) return connect
  if (roll < 0.8) return mutate(random, connect, level)
  if (roll < 0.9) {
    const before = encode(validPacket(random, random.pick(typesAt(level)), level), level)
    return random.chance(0.5) ? before : mutate(random, before, level)
  }
  return random.bytes(random.between(1, 64))
}

function anyPacket (random: SeededRandom, level: ProtocolLevel): Buffer {
  const roll = random.next()
  const cmd = random.pick(AFTER_CONNECT.filter(type => level === 5 || type !== 'auth'))
  if (roll < 0.6) return encode(validPacket(random, cmd, level), level)
  if (roll < 0.88) return mutate(random, encode(validPacket(random, cmd, level), level), level)
  if (roll < 0.96) return random.bytes(random.between(1, 64))
  // A well-formed packet of another protocol level than the one the connection began with.
  const other = random.pick(([3, 4, 5] as const).filter(candidate => candidate !== level))
  return encode(validPacket(random, random.pick(typesAt(other)), other), other)
}
