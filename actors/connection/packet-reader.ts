import { isUtf8 } from 'node:buffer'
import mqttPacket, { type Packet, type Parser } from 'mqtt-packet'
import { closeReason, type CloseReason } from './close-reason.js'

/** What mqtt-packet's parser keeps internally and the reader needs to look at. */
interface ParserInternals {
  _pos: number
  _list: { slice (start: number, end: number): Buffer }
  packet: { length: number }
  _parseString (): string | null
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

  constructor (private readonly maxPacketSize: number) {
    this.parser = mqttPacket.parser({}) as Parser & ParserInternals
    this.parser.on('packet', packet => { this.packets.push(packet) })
    this.parser.on('error', (error: Error) => {
      if (this.failure !== undefined) return
      this.failure = this.stringProblem !== undefined
        ? closeReason('malformed-packet', this.stringProblem)
        : closeReason('malformed-packet', error.message)
    })
    this.checkStrings()
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
}
