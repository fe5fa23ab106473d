import mqttPacket, { type Packet } from 'mqtt-packet'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { PacketReader } from '../../actors/connection/packet-reader.js'
import { decodePublish } from '../../actors/connection/publish-decoder.js'
import { StrictParser } from '../../actors/connection/strict-parser.js'
import { SeededRandom } from '../fuzz/seeded-random.js'

/**
 * The direct PUBLISH decoder against mqtt-packet's strict parser: for every PUBLISH it takes,
 * it must produce the very packet the parser does, and it must leave every PUBLISH it cannot
 * vouch for (bad UTF-8, U+0000, QoS 3, v5 properties, cut short) to the parser.
 */

const test = suite('publish decoder')

const CONNECT = { cmd: 'connect', protocolId: 'MQTT', clean: true, clientId: 'c', keepalive: 0 } as const

function connectBytes (version: 3 | 4 | 5): Buffer {
  return mqttPacket.generate({ ...CONNECT, protocolVersion: version, ...(version === 3 ? { protocolId: 'MQIsdp' } : {}) } as Packet)
}

/** What the strict parser alone makes of `bytes` after a CONNECT at `version`. */
function strictlyParsed (version: 3 | 4 | 5, bytes: Buffer): Packet[] {
  const parser = new StrictParser()
  parser.parse(connectBytes(version))
  parser.packets = []
  parser.parse(bytes)
  assert.is(parser.failure, undefined, 'the reference parse succeeds')
  return parser.packets.map(plain)
}

/** A packet's fields as a plain object: the parser's packets are instances of its own Packet class. */
function plain (packet: Packet): Packet {
  return { ...packet }
}

/** What a PacketReader makes of `chunks` after a CONNECT at `version`. */
function read (version: 3 | 4 | 5, chunks: readonly Buffer[]): Packet[] {
  const reader = new PacketReader(268435455)
  reader.read(connectBytes(version))
  const packets: Packet[] = []
  for (const chunk of chunks) {
    const result = reader.read(chunk)
    assert.is(result.failure, undefined)
    packets.push(...result.packets.map(plain))
  }
  return packets
}

const TOPICS = ['a', 'sensors/kitchen/temperature', 'grüße/温度/🌡', '$SYS-like/not/really', 'x'.repeat(300)]

function randomPublish (random: SeededRandom, version: 3 | 4 | 5): Packet {
  const qos = random.below(3) as 0 | 1 | 2
  return {
    cmd: 'publish',
    topic: TOPICS[random.below(TOPICS.length)]!,
    payload: Buffer.alloc([0, 1, 16, 200, 20_000][random.below(5)]!, random.below(256)),
    qos,
    retain: random.below(2) === 1,
    dup: qos > 0 && random.below(2) === 1,
    ...(qos > 0 ? { messageId: 1 + random.below(65535) } : {}),
    ...(version === 5 ? { properties: {} } : {})
  } as Packet
}

test('every PUBLISH it takes equals the strict parser\'s packet, for MQTT 3.1, 3.1.1 and 5, QoS 0-2, retain, dup and UTF-8 topics', () => {
  const random = new SeededRandom(7)
  for (const version of [3, 4, 5] as const) {
    for (let index = 0; index < 300; index++) {
      const bytes = mqttPacket.generate(randomPublish(random, version), { protocolVersion: version })
      const decoded = decodePublish(bytes, 0, version)
      assert.ok(decoded, `v${version} packet ${index} is decoded directly`)
      assert.is(decoded.end, bytes.length)
      assert.equal(decoded.packet, strictlyParsed(version, bytes)[0], `v${version} packet ${index}`)
    }
  }
})

test('a chunk of several packets, PUBLISH and others mixed and cut anywhere, reads as the strict parser reads it', () => {
  const random = new SeededRandom(11)
  for (const version of [4, 5] as const) {
    for (let round = 0; round < 100; round++) {
      const packets: Packet[] = []
      for (let count = 1 + random.below(6); count > 0; count--) {
        packets.push(random.below(4) === 0 ? { cmd: 'pingreq' } : random.below(5) === 0 ? { cmd: 'puback', messageId: 1 + random.below(100) } : randomPublish(random, version))
      }
      const stream = Buffer.concat(packets.map(packet => mqttPacket.generate(packet, { protocolVersion: version })))
      const cuts = [0, random.below(stream.length + 1), random.below(stream.length + 1), stream.length].sort((a, b) => a - b)
      const chunks = cuts.slice(1).map((cut, index) => stream.subarray(cuts[index], cut)).filter(chunk => chunk.length > 0)
      assert.equal(read(version, chunks), strictlyParsed(version, stream), `round ${round}, cut at ${cuts.join(',')}`)
    }
  }
})

test('what it cannot vouch for is left to the strict parser: bad UTF-8, U+0000, QoS 3, v5 properties, a packet cut short, not a PUBLISH', () => {
  const publish = (topic: string | Buffer, extra: Record<string, unknown> = {}): Buffer =>
    mqttPacket.generate({ cmd: 'publish', topic, payload: Buffer.from('p'), qos: 0, retain: false, dup: false, ...extra } as Packet, { protocolVersion: 5 })
  const invalidUtf8 = publish('ab')
  invalidUtf8[4] = 0xff
  assert.is(decodePublish(invalidUtf8, 0, 4), undefined, 'invalid UTF-8 [MQTT-1.5.3-1]')
  assert.is(decodePublish(publish('a\u0000b'), 0, 4), undefined, 'U+0000 [MQTT-1.5.3-2]')
  const nonAsciiWithNull = Buffer.from(publish('é\u0000'))
  assert.is(decodePublish(nonAsciiWithNull, 0, 4), undefined, 'U+0000 after a non-ASCII character')
  const qos3 = Buffer.from(publish('a'))
  qos3[0] = 0x36
  assert.is(decodePublish(qos3, 0, 4), undefined, 'both QoS bits set')
  assert.is(decodePublish(publish('a', { properties: { contentType: 'text/plain' } }), 0, 5), undefined, 'v5 with properties')
  const whole = publish('a/b')
  assert.is(decodePublish(whole.subarray(0, whole.length - 1), 0, 5), undefined, 'cut short')
  assert.is(decodePublish(mqttPacket.generate({ cmd: 'pingreq' }), 0, 5), undefined, 'not a PUBLISH')
  assert.is(decodePublish(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x7f]), 0, 4), undefined, 'a five-byte Remaining Length')
})

test('the reader still refuses what the strict parser refuses when it comes behind decoded packets', () => {
  const reader = new PacketReader(268435455)
  reader.read(connectBytes(4))
  const good = mqttPacket.generate({ cmd: 'publish', topic: 'ok', payload: Buffer.from('1'), qos: 0, retain: false, dup: false })
  const bad = Buffer.from(mqttPacket.generate({ cmd: 'publish', topic: 'a\u0000', payload: Buffer.from('2'), qos: 0, retain: false, dup: false }))
  const result = reader.read(Buffer.concat([good, bad]))
  assert.equal(result.packets.map(packet => packet.cmd === 'publish' && packet.topic), ['ok'])
  assert.is(result.failure?.kind, 'malformed-packet')
})

test('a PUBLISH larger than max-packet-size is refused even when decoded directly', () => {
  const reader = new PacketReader(64)
  reader.read(connectBytes(4))
  const result = reader.read(mqttPacket.generate({ cmd: 'publish', topic: 't', payload: Buffer.alloc(100), qos: 0, retain: false, dup: false }))
  assert.is(result.packets.length, 0)
  assert.is(result.failure?.kind, 'packet-too-large')
})

test.run()
