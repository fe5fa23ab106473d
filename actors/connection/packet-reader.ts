import { isUtf8 } from 'node:buffer'
import mqttPacket, { type Packet, type Parser } from 'mqtt-packet'
import constants from 'mqtt-packet/constants.js'
import { closeReason, type CloseReason } from './close-reason.js'
import { ALLOWED_PROPERTIES, mayRepeat, type PropertyScope } from './protocol/property-rules.js'

/** What mqtt-packet's parser keeps internally and the reader needs to look at. */
interface ParserInternals {
  _pos: number
  _list: { slice (start: number, end: number): Buffer, length: number }
  packet: { length: number, cmd: string, protocolVersion?: number }
  _parseString (): string | null
  _parseProperties (): Record<string, unknown> | false
  _parseVarByteNum (): number | false
  _parseByte (): number | undefined
  _parseByType (type: string): unknown
  _emitError (error: Error): void
}

/** The packets one socket chunk completed, or why the connection must close. */
export interface ReadResult {
  readonly packets: Packet[]
  readonly failure: CloseReason | undefined
}

/**
 * Turns socket chunks into packets with mqtt-packet's resumable parser, adding what it does
 * not check: strings must be well-formed UTF-8 without U+0000 [MQTT-1.5.3-1][MQTT-1.5.3-2],
 * and a packet larger than the broker's maximum is refused as soon as its fixed header
 * says so, before its body is buffered.
 */
export class PacketReader {
  private readonly parser: Parser & ParserInternals
  private packets: Packet[] = []
  private failure: CloseReason | undefined
  private stringProblem: string | undefined
  private propertyProblem: CloseReason | undefined
  /** Property sections read so far in the current packet (CONNECT has two: its own and the will's). */
  private propertySections = 0

  constructor (private readonly maxPacketSize: number) {
    this.parser = mqttPacket.parser({}) as Parser & ParserInternals
    this.parser.on('packet', packet => {
      this.propertySections = 0
      this.packets.push(packet)
    })
    this.parser.on('error', (error: Error) => {
      if (this.failure !== undefined) return
      this.failure = this.propertyProblem ?? (this.stringProblem !== undefined
        ? closeReason('malformed-packet', this.stringProblem)
        : closeReason('malformed-packet', error.message))
    })
    this.checkStrings()
    this.checkProperties()
  }

  read (chunk: Buffer): ReadResult {
    this.parser.parse(chunk)
    const packets = this.packets
    this.packets = []
    let failure = this.failure
    // The parser has read the fixed header of the packet it is waiting on: refuse it now if
    // it is too large, rather than buffer up to 256 MB of it.
    const pendingLength = this.parser.packet.length
    if (failure === undefined && pendingLength > this.maxPacketSize) {
      failure = closeReason('packet-too-large', `packet of ${pendingLength} bytes is larger than the broker's maximum of ${this.maxPacketSize}`)
    }
    const oversized = packets.findIndex(packet => (packet.length ?? 0) > this.maxPacketSize)
    if (oversized >= 0) {
      failure = closeReason('packet-too-large', `packet of ${String(packets[oversized]!.length)} bytes is larger than the broker's maximum of ${this.maxPacketSize}`)
      packets.length = oversized
    }
    return { packets, failure }
  }

  /** The protocol level of the CONNECT being read (or read last), so a failure can be answered in its terms. */
  get connectLevel (): number | undefined {
    return this.parser.packet.protocolVersion
  }

  /** The protocol level a refused CONNECT asked for, when the parser stopped at it. */
  get unsupportedProtocolVersion (): boolean {
    return this.failure?.detail === 'Invalid protocol version'
  }

  private checkStrings (): void {
    const parser = this.parser
    const parseString = parser._parseString
    parser._parseString = () => {
      const start = parser._pos + 2
      const result = parseString.call(parser)
      if (result === null) return null
      // toString() turns invalid UTF-8 into U+FFFD: only then are the raw bytes worth a look.
      if (result.includes('\uFFFD') && !isUtf8(parser._list.slice(start, parser._pos))) {
        this.stringProblem = 'a string is not well-formed UTF-8 [MQTT-1.5.3-1]'
        return null
      }
      if (result.includes('\u0000')) {
        this.stringProblem = 'a string contains U+0000 [MQTT-1.5.3-2]'
        return null
      }
      return result
    }
  }

  /**
   * Reads MQTT 5 properties strictly: a property the packet may not carry, or a second copy
   * of one that may appear once, is a Protocol Error; a length that does not add up is a
   * Malformed Packet. User properties are kept as an ordered list of pairs [MQTT-3.3.2-18].
   */
  private checkProperties (): void {
    const parser = this.parser
    const fail = (reason: CloseReason): false => {
      this.propertyProblem = reason
      parser._emitError(new Error(reason.detail))
      return false
    }
    parser._parseProperties = () => {
      const scope = this.propertyScope()
      const length = parser._parseVarByteNum()
      if (length === false) return fail(closeReason('malformed-packet', 'property length is not a valid variable byte integer'))
      const end = parser._pos + length
      if (end > parser.packet.length) return fail(closeReason('malformed-packet', 'property length runs past the end of the packet'))
      const result: Record<string, unknown> = {}
      const userProperties: Array<[string, string]> = []
      while (parser._pos < end) {
        const code = parser._parseByte()
        const name = code === undefined ? undefined : constants.propertiesCodes[code]
        if (name === undefined) return fail(closeReason('malformed-packet', `unknown property identifier ${String(code)}`))
        if (!ALLOWED_PROPERTIES[scope].has(name)) return fail(closeReason('protocol-error', `property ${name} is not allowed in ${scope.toUpperCase()}`))
        if (name in result && !mayRepeat(scope, name)) return fail(closeReason('protocol-error', `property ${name} appears more than once`))
        const type = constants.propertiesTypes[name]!
        const value = parser._parseByType(type)
        // Readers return null or undefined when bytes run out; the variable-length one, false.
        if (value === null || value === undefined || (value === false && type === 'var')) {
          return fail(this.propertyProblem ?? closeReason('malformed-packet', `property ${name} cannot be read`))
        }
        if (name === 'userProperties') {
          const pair = value as { name: string | null, value: string | null }
          if (pair.name === null || pair.value === null) return fail(closeReason('malformed-packet', 'a user property cannot be read'))
          userProperties.push([pair.name, pair.value])
          result.userProperties = userProperties
        } else if (mayRepeat(scope, name)) {
          (result[name] as unknown[] | undefined)?.push(value) ?? (result[name] = [value])
        } else {
          result[name] = value
        }
      }
      if (parser._pos !== end) return fail(closeReason('malformed-packet', 'property length does not match the properties'))
      // One subscription identifier is a number, as mqtt-packet's own code expects.
      if (Array.isArray(result.subscriptionIdentifier) && result.subscriptionIdentifier.length === 1) result.subscriptionIdentifier = result.subscriptionIdentifier[0]
      return result
    }
  }

  private propertyScope (): PropertyScope {
    const cmd = this.parser.packet.cmd as PropertyScope
    if (cmd === 'connect' && this.propertySections++ > 0) return 'will'
    return cmd
  }
}
