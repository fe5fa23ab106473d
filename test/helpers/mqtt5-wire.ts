import { connect, type Socket } from 'node:net'
import mqttPacket, { type Packet } from 'mqtt-packet'

/**
 * MQTT 5 packets byte by byte, for tests: builders for the malformed input mqtt-packet will
 * not generate, and a client that keeps every packet the broker sends as raw bytes, so a test
 * can read what a parser would smooth over (the order of repeated user properties, an empty
 * topic next to a topic alias, a packet's exact size).
 */

/** A Variable Byte Integer [MQTT-1.5.5-1]. */
export function varInt (value: number): number[] {
  const bytes: number[] = []
  do {
    let byte = value % 128
    value = Math.floor(value / 128)
    if (value > 0) byte |= 0x80
    bytes.push(byte)
  } while (value > 0)
  return bytes
}

/** A length-prefixed UTF-8 string or binary field; a Buffer goes in as it is, valid UTF-8 or not. */
export function lengthPrefixed (value: string | Buffer | readonly number[]): number[] {
  const bytes = typeof value === 'string' ? [...Buffer.from(value, 'utf8')] : [...value]
  return [bytes.length >> 8, bytes.length & 0xff, ...bytes]
}

/** A whole packet: first byte (type and flags), remaining length, body. */
export function packetBytes (firstByte: number, body: readonly number[]): Buffer {
  return Buffer.from([firstByte, ...varInt(body.length), ...body])
}

/** A property section: its length, then the properties as given. */
export function propertySection (...properties: ReadonlyArray<readonly number[]>): number[] {
  const bytes = properties.flat()
  return [...varInt(bytes.length), ...bytes]
}

/** One property each, by MQTT 5 property identifier. */
export const property = {
  payloadFormatIndicator: (value: number) => [0x01, value],
  messageExpiryInterval: (seconds: number) => [0x02, ...uint32(seconds)],
  contentType: (value: string | Buffer) => [0x03, ...lengthPrefixed(value)],
  responseTopic: (value: string | Buffer) => [0x08, ...lengthPrefixed(value)],
  correlationData: (value: string | Buffer) => [0x09, ...lengthPrefixed(value)],
  subscriptionIdentifier: (id: number) => [0x0b, ...varInt(id)],
  sessionExpiryInterval: (seconds: number) => [0x11, ...uint32(seconds)],
  willDelayInterval: (seconds: number) => [0x18, ...uint32(seconds)],
  receiveMaximum: (count: number) => [0x21, count >> 8, count & 0xff],
  topicAlias: (alias: number) => [0x23, alias >> 8, alias & 0xff],
  userProperty: (name: string | Buffer, value: string | Buffer) => [0x26, ...lengthPrefixed(name), ...lengthPrefixed(value)]
} as const

/** A v5 PUBLISH with the given (possibly invalid) properties. */
export function publishBytes (fields: {
  readonly topic: string | Buffer
  readonly qos?: 0 | 1 | 2 | 3
  readonly packetId?: number
  readonly properties?: readonly number[]
  readonly payload?: string | Buffer
  readonly retain?: boolean
}): Buffer {
  const qos = fields.qos ?? 0
  const packetId = fields.packetId ?? 1
  const payload = typeof fields.payload === 'string' ? Buffer.from(fields.payload) : fields.payload ?? Buffer.alloc(0)
  return packetBytes(0x30 | (qos << 1) | (fields.retain === true ? 1 : 0), [
    ...lengthPrefixed(fields.topic),
    ...(qos > 0 ? [packetId >> 8, packetId & 0xff] : []),
    ...(fields.properties ?? [0]),
    ...payload
  ])
}

/** The will part of a hand-built CONNECT; the CONNECT's flags must say there is one (0x04, QoS, retain). */
export interface WillBytes {
  readonly properties?: readonly number[]
  readonly topic: string | Buffer
  readonly payload?: string | Buffer
}

/**
 * A v5 CONNECT without credentials: flags 0x02 is Clean Start alone, 0x00 resumes; a will
 * needs 0x04 plus its QoS (bits 3-4) and retain (0x20) in `flags`.
 */
export function connectBytes (fields: { readonly clientId: string | Buffer, readonly flags?: number, readonly keepAlive?: number, readonly properties?: readonly number[], readonly will?: WillBytes, readonly protocolName?: string, readonly level?: number }): Buffer {
  const keepAlive = fields.keepAlive ?? 60
  const will = fields.will
  return packetBytes(0x10, [
    ...lengthPrefixed(fields.protocolName ?? 'MQTT'),
    fields.level ?? 5,
    fields.flags ?? 0x02,
    keepAlive >> 8, keepAlive & 0xff,
    ...(fields.properties ?? [0]),
    ...lengthPrefixed(fields.clientId),
    ...(will === undefined ? [] : [...(will.properties ?? [0]), ...lengthPrefixed(will.topic), ...lengthPrefixed(will.payload ?? '')])
  ])
}

/** A v5 SUBSCRIBE of one filter with the given options byte and property section. */
export function subscribeBytes (fields: { readonly filter: string, readonly options?: number, readonly properties?: readonly number[], readonly packetId?: number, readonly firstByte?: number }): Buffer {
  const packetId = fields.packetId ?? 1
  return packetBytes(fields.firstByte ?? 0x82, [packetId >> 8, packetId & 0xff, ...(fields.properties ?? [0]), ...lengthPrefixed(fields.filter), fields.options ?? 0])
}

function uint32 (value: number): number[] {
  return [(value >>> 24) & 0xff, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff]
}

/** A property of a received packet, in wire order: user properties as [name, value] pairs. */
export type WireProperty =
  | readonly ['payloadFormatIndicator' | 'messageExpiryInterval' | 'subscriptionIdentifier' | 'topicAlias', number]
  | readonly ['contentType' | 'responseTopic', string]
  | readonly ['correlationData', Buffer]
  | readonly ['userProperty', readonly [string, string]]

/** A PUBLISH as it was on the wire. */
export interface WirePublish {
  /** The whole packet's size in bytes. */
  readonly size: number
  readonly qos: number
  readonly dup: boolean
  readonly retain: boolean
  /** Empty when a topic alias stands in for it. */
  readonly topic: string
  readonly packetId: number | undefined
  readonly properties: readonly WireProperty[]
  readonly payload: Buffer
}

/** The value of a PUBLISH's first property called `name`, if it has one. */
export function propertyValue<N extends WireProperty[0]> (publish: WirePublish, name: N): Extract<WireProperty, readonly [N, unknown]>[1] | undefined {
  const found = publish.properties.find(([candidate]) => candidate === name)
  return found?.[1] as Extract<WireProperty, readonly [N, unknown]>[1] | undefined
}

/** Reads a v5 PUBLISH's bytes, properties in the order they were sent. */
export function readPublish (bytes: Buffer): WirePublish {
  const first = bytes[0]!
  let offset = 1
  while ((bytes[offset++]! & 0x80) !== 0);
  const qos = (first >> 1) & 3
  const topicLength = bytes.readUInt16BE(offset)
  const topic = bytes.toString('utf8', offset + 2, offset + 2 + topicLength)
  offset += 2 + topicLength
  let packetId: number | undefined
  if (qos > 0) {
    packetId = bytes.readUInt16BE(offset)
    offset += 2
  }
  const [propertiesLength, lengthBytes] = readVarInt(bytes, offset)
  offset += lengthBytes
  const end = offset + propertiesLength
  const properties: WireProperty[] = []
  const string = (): string => {
    const length = bytes.readUInt16BE(offset)
    const text = bytes.toString('utf8', offset + 2, offset + 2 + length)
    offset += 2 + length
    return text
  }
  while (offset < end) {
    const id = bytes[offset++]!
    switch (id) {
      case 0x01: properties.push(['payloadFormatIndicator', bytes[offset++]!]); break
      case 0x02: properties.push(['messageExpiryInterval', bytes.readUInt32BE(offset)]); offset += 4; break
      case 0x03: properties.push(['contentType', string()]); break
      case 0x08: properties.push(['responseTopic', string()]); break
      case 0x09: {
        const length = bytes.readUInt16BE(offset)
        properties.push(['correlationData', bytes.subarray(offset + 2, offset + 2 + length)])
        offset += 2 + length
        break
      }
      case 0x0b: {
        const [value, size] = readVarInt(bytes, offset)
        properties.push(['subscriptionIdentifier', value])
        offset += size
        break
      }
      case 0x23: properties.push(['topicAlias', bytes.readUInt16BE(offset)]); offset += 2; break
      case 0x26: {
        const name = string()
        properties.push(['userProperty', [name, string()]])
        break
      }
      default: throw new Error(`property 0x${id.toString(16)} is not one a PUBLISH from the broker carries`)
    }
  }
  return { size: bytes.length, qos, dup: (first & 0x08) !== 0, retain: (first & 1) !== 0, topic, packetId, properties, payload: bytes.subarray(end) }
}

function readVarInt (bytes: Buffer, offset: number): [number, number] {
  let value = 0
  let multiplier = 1
  let size = 0
  for (;;) {
    const byte = bytes[offset + size++]!
    value += (byte & 0x7f) * multiplier
    if ((byte & 0x80) === 0) return [value, size]
    multiplier *= 128
  }
}

const open = new Set<WireClient>()

/**
 * An MQTT 5 client that keeps each packet the broker sends as its raw bytes (`frames`) and
 * parsed (`packets`), in arrival order.
 */
export class WireClient {
  readonly frames: Buffer[] = []
  readonly packets: Packet[] = []
  private pending = Buffer.alloc(0)
  private readonly parser = mqttPacket.parser({ protocolVersion: 5 })
  private readonly waiters = new Set<() => void>()
  private isClosed = false

  private constructor (private readonly socket: Socket) {
    this.parser.on('packet', packet => this.packets.push(packet))
    socket.on('data', chunk => this.onData(chunk))
    socket.on('error', () => {})
    socket.on('close', () => {
      this.isClosed = true
      this.wake()
    })
    open.add(this)
  }

  static async connect (port: number): Promise<WireClient> {
    const socket = connect({ host: '127.0.0.1', port })
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve)
      socket.once('error', reject)
    })
    return new WireClient(socket)
  }

  send (packet: Packet): void {
    this.socket.write(mqttPacket.generate(packet, { protocolVersion: 5 }))
  }

  sendBytes (bytes: Buffer): void {
    this.socket.write(bytes)
  }

  /** The raw PUBLISH packets so far, decoded. */
  get publishes (): WirePublish[] {
    return this.frames.filter(frame => frame[0]! >> 4 === 3).map(readPublish)
  }

  /** Resolves once `probe` returns something, re-checked as packets arrive. */
  async waitFor<T> (probe: () => T | undefined, what: string, timeoutMs = 3000): Promise<T> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const found = probe()
      if (found !== undefined) return found
      if (this.isClosed) throw new Error(`connection closed before ${what}`)
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`no ${what} within ${timeoutMs}ms`)
      await new Promise<void>(resolve => {
        const wake = (): void => { clearTimeout(timer); this.waiters.delete(wake); resolve() }
        const timer = setTimeout(wake, left)
        this.waiters.add(wake)
      })
    }
  }

  end (): void {
    this.socket.destroy()
    open.delete(this)
  }

  static closeAll (): void {
    for (const client of open) client.end()
  }

  private onData (chunk: Buffer): void {
    this.parser.parse(chunk)
    this.pending = Buffer.concat([this.pending, chunk])
    for (;;) {
      if (this.pending.length < 2) break
      let offset = 1
      let length = 0
      let multiplier = 1
      let complete = false
      while (offset < this.pending.length && offset <= 4) {
        const byte = this.pending[offset++]!
        length += (byte & 0x7f) * multiplier
        multiplier *= 128
        if ((byte & 0x80) === 0) { complete = true; break }
      }
      if (!complete || this.pending.length < offset + length) break
      this.frames.push(this.pending.subarray(0, offset + length))
      this.pending = this.pending.subarray(offset + length)
    }
    this.wake()
  }

  private wake (): void {
    for (const wake of [...this.waiters]) wake()
  }
}
