import type { Packet } from 'mqtt-packet'
import { closeReason, type CloseReason } from './close-reason.js'
import { decodePublish } from './publish-decoder.js'
import { StrictParser } from './strict-parser.js'

/** The packets one socket chunk completed, or why the connection must close. */
export interface ReadResult {
  readonly packets: Packet[]
  readonly failure: CloseReason | undefined
}

/**
 * Turns socket chunks into packets with mqtt-packet's resumable parser, adding what it does
 * not check: strings must be well-formed UTF-8 without U+0000 [MQTT-1.5.3-1][MQTT-1.5.3-2],
 * and a packet larger than the broker's maximum is refused as soon as its fixed header
 * says so, before its body is buffered. Between packets, after CONNECT, the PUBLISH packets
 * that lie whole in a chunk are decoded directly (publish-decoder.ts); the parser reads the
 * rest of the chunk from the first packet that is not one.
 */
export class PacketReader {
  private readonly parser = new StrictParser()

  constructor (private readonly maxPacketSize: number) {}

  read (chunk: Buffer): ReadResult {
    const parser = this.parser
    let offset = 0
    let packets: Packet[] = []
    const version = parser.protocolVersion
    if (version !== undefined && parser.idle) {
      for (let decoded = decodePublish(chunk, 0, version); decoded !== undefined; decoded = decodePublish(chunk, offset, version)) {
        packets.push(decoded.packet)
        offset = decoded.end
      }
    }
    if (offset < chunk.length) {
      parser.parse(offset === 0 ? chunk : chunk.subarray(offset))
      packets = packets.length === 0 ? parser.packets : packets.concat(parser.packets)
      parser.packets = []
    }
    let failure = parser.failure
    // The parser has read the fixed header of the packet it is waiting on: refuse it now if
    // it is too large, rather than buffer up to 256 MB of it.
    const pendingSize = wholePacketSize(parser.packet.length)
    if (failure === undefined && pendingSize > this.maxPacketSize) {
      failure = closeReason('packet-too-large', `packet of ${pendingSize} bytes is larger than the broker's maximum of ${this.maxPacketSize}`)
    }
    const oversized = packets.findIndex(packet => wholePacketSize(packet.length) > this.maxPacketSize)
    if (oversized >= 0) {
      failure = closeReason('packet-too-large', `packet of ${wholePacketSize(packets[oversized]!.length)} bytes is larger than the broker's maximum of ${this.maxPacketSize}`)
      packets.length = oversized
    }
    return { packets, failure }
  }

  /** The parser stopped at a CONNECT whose protocol level the broker does not speak. */
  get unsupportedProtocolVersion (): boolean {
    return this.parser.failure?.detail === 'Invalid protocol version'
  }
}

/**
 * The size of a whole packet, fixed header included, from its Remaining Length: what Maximum
 * Packet Size limits [MQTT-3.1.2-24 (v5)]. 0 while the Remaining Length is not read yet.
 */
function wholePacketSize (remainingLength: number | undefined): number {
  if (remainingLength === undefined || remainingLength < 0) return 0
  const lengthBytes = remainingLength < 128 ? 1 : remainingLength < 16_384 ? 2 : remainingLength < 2_097_152 ? 3 : 4
  return 1 + lengthBytes + remainingLength
}
