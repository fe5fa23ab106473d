import { isUtf8 } from 'node:buffer'
import { BufferList } from 'bl'
import mqttPacket, { type Packet } from 'mqtt-packet'
import constants from 'mqtt-packet/constants.js'
import { closeReason, type CloseReason } from './close-reason.js'
import { ALLOWED_PROPERTIES, mayRepeat, type PropertyScope } from './protocol/property-rules.js'

/** What of mqtt-packet's parser class the strict parser builds on; the package does not type it. */
interface MqttPacketParser {
  _pos: number
  _list: { slice (start: number, end: number): Buffer, length: number }
  packet: { length: number, cmd: string, protocolVersion?: number }
  _stateCounter: number
  /** The CONNECT packet once one is parsed (its protocolVersion decides how the rest parse); `{}` before. */
  settings: { protocolVersion?: number }
  error: Error | null
  parser (options: object): this
  parse (chunk: Buffer): number
  _parseString (): string | null
  _parseProperties (): Record<string, unknown> | false
  _parseVarByteNum (): number | false
  _parseByte (): number | undefined
  _parseByType (type: string): unknown
  _emitError (error: Error): void
  emit (event: string, value: unknown): boolean
}

const templateParser = mqttPacket.parser() as unknown as MqttPacketParser
const MqttPacketParser = Object.getPrototypeOf(templateParser).constructor as new () => MqttPacketParser
/** mqtt-packet's (unexported) class of the packet being parsed. */
const ParsedPacket = templateParser.packet.constructor as new () => MqttPacketParser['packet']

/**
 * mqtt-packet's resumable parser, held to the letter of the specs where it is lenient:
 * strings must be well-formed UTF-8 without U+0000 [MQTT-1.5.3-1][MQTT-1.5.3-2]; MQTT 5
 * properties must be allowed in their packet, appear once unless repeatable, and fill their
 * length exactly; user properties keep their order as a list of pairs [MQTT-3.3.2-18 (v5)].
 * Parsed packets are collected in `packets` rather than emitted, one list per chunk.
 */
export class StrictParser extends MqttPacketParser {
  packets: Packet[] = []
  /** Why parsing stopped, once it has. */
  failure: CloseReason | undefined
  /** Property sections read so far in the current packet (CONNECT has two: its own and the will's). */
  private propertySections = 0

  constructor () {
    super()
    this.parser({})
  }

  /** The protocol level of the CONNECT parsed so far, or undefined before one. */
  get protocolVersion (): number | undefined {
    return this.settings.protocolVersion
  }

  /** True between packets: no byte of a next packet is buffered. */
  get idle (): boolean {
    return this._list.length === 0 && this.packet.length === -1
  }

  /**
   * mqtt-packet's own reset, but buffering in a plain BufferList: it makes a BufferListStream,
   * a readable-stream Duplex the parser never uses as a stream, which cost each new
   * connection about 2 KB and a tenth of its accept time (a CPU profile of connection churn).
   */
  _resetState (): void {
    this.packet = new ParsedPacket()
    this.error = null
    this._list = new BufferList()
    this._stateCounter = 0
  }

  override emit (event: string, value: unknown): boolean {
    if (event === 'packet') {
      this.propertySections = 0
      this.packets.push(value as Packet)
    } else if (event === 'error') {
      this.failure ??= closeReason('malformed-packet', (value as Error).message)
    }
    return true
  }

  override _parseString (): string | null {
    const start = this._pos + 2
    const result = super._parseString()
    if (result === null) return null
    // toString() turns invalid UTF-8 into U+FFFD: only then are the raw bytes worth a look.
    if (result.includes('\uFFFD') && !isUtf8(this._list.slice(start, this._pos))) {
      return this.fail(closeReason('malformed-packet', 'a string is not well-formed UTF-8 [MQTT-1.5.3-1]'), null)
    }
    if (result.includes('\u0000')) return this.fail(closeReason('malformed-packet', 'a string contains U+0000 [MQTT-1.5.3-2]'), null)
    return result
  }

  override _parseProperties (): Record<string, unknown> | false {
    const scope = this.propertyScope()
    // A DISCONNECT may end before its Property Length (Remaining Length 0 or 1, as Mosquitto
    // and Paho send it), which then counts as 0 (MQTT 5.0 section 3.14.2.2.1).
    if (scope === 'disconnect' && this._pos >= this.packet.length) return {}
    const length = this._parseVarByteNum()
    if (length === false) return this.fail(closeReason('malformed-packet', 'property length is not a valid variable byte integer'), false)
    const end = this._pos + length
    if (end > this.packet.length) return this.fail(closeReason('malformed-packet', 'property length runs past the end of the packet'), false)
    const result: Record<string, unknown> = {}
    const userProperties: Array<[string, string]> = []
    while (this._pos < end) {
      const code = this._parseByte()
      const name = code === undefined ? undefined : constants.propertiesCodes[code]
      if (name === undefined) return this.fail(closeReason('malformed-packet', `unknown property identifier ${String(code)}`), false)
      if (!ALLOWED_PROPERTIES[scope].has(name)) return this.fail(closeReason('protocol-error', `property ${name} is not allowed in ${scope.toUpperCase()}`), false)
      if (name in result && !mayRepeat(scope, name)) return this.fail(closeReason('protocol-error', `property ${name} appears more than once`), false)
      const type = constants.propertiesTypes[name]!
      const value = this._parseByType(type)
      // Readers return null or undefined when bytes run out; the variable-length one, false.
      if (value === null || value === undefined || (value === false && type === 'var')) {
        return this.fail(closeReason('malformed-packet', `property ${name} cannot be read`), false)
      }
      if (name === 'userProperties') {
        const pair = value as { name: string | null, value: string | null }
        if (pair.name === null || pair.value === null) return this.fail(closeReason('malformed-packet', 'a user property cannot be read'), false)
        userProperties.push([pair.name, pair.value])
        result.userProperties = userProperties
      } else if (mayRepeat(scope, name)) {
        (result[name] as unknown[] | undefined)?.push(value) ?? (result[name] = [value])
      } else {
        result[name] = value
      }
    }
    if (this._pos !== end) return this.fail(closeReason('malformed-packet', 'property length does not match the properties'), false)
    // One subscription identifier is a number, as mqtt-packet's own code expects.
    if (Array.isArray(result.subscriptionIdentifier) && result.subscriptionIdentifier.length === 1) result.subscriptionIdentifier = result.subscriptionIdentifier[0]
    return result
  }

  /** Records why the packet is refused (the first reason wins) and stops the parser. */
  private fail<T> (reason: CloseReason, returned: T): T {
    this.failure ??= reason
    this._emitError(new Error(reason.detail))
    return returned
  }

  private propertyScope (): PropertyScope {
    const cmd = this.packet.cmd as PropertyScope
    if (cmd === 'connect' && this.propertySections++ > 0) return 'will'
    return cmd
  }
}
