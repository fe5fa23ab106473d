import { isIPv4, SocketAddress } from 'node:net'

/**
 * The PROXY protocol header a load balancer (HAProxy, an AWS NLB, ...) sends before the
 * client's own bytes, to tell the server who the client is: version 1 is a line of text,
 * version 2 a binary block. See https://www.haproxy.org/download/2.9/doc/proxy-protocol.txt.
 */

/** One end of the proxied connection. A UNIX socket's is its path, with port 0. */
export interface ProxiedEndpoint {
  readonly address: string
  readonly port: number
}

/** What a complete, valid header says. */
export type ProxyHeader =
  | {
    /** The balancer relays a client: `source` is the client, `destination` the address it connected to. */
    readonly command: 'proxy'
    readonly version: 1 | 2
    readonly family: 'tcp4' | 'tcp6' | 'unix'
    readonly source: ProxiedEndpoint
    readonly destination: ProxiedEndpoint
  }
  | {
    /**
     * No client address to take: a v2 LOCAL command (the balancer's own health check), a v1
     * UNKNOWN or a v2 unspecified family. The connection's own endpoints apply.
     */
    readonly command: 'local'
    readonly version: 1 | 2
  }

/** What a chunk of bytes gave: not enough yet, the header and the bytes after it, or a refusal. */
export type ProxyHeaderOutcome =
  | { readonly state: 'incomplete' }
  /** `rest`: the bytes that followed the header in the input, the client's own (MQTT) bytes. */
  | { readonly state: 'complete', readonly header: ProxyHeader, readonly rest: Buffer }
  /** `reason`: why the bytes are not a PROXY header, for the log. */
  | { readonly state: 'refused', readonly reason: string }

/** The v1 header's fixed start. */
const V1_PREFIX = Buffer.from('PROXY ', 'latin1')
/** The longest v1 line the specification allows, CRLF included (a TCP6 line with the longest addresses and ports). */
export const V1_MAX_LENGTH = 107
/** The v2 header's fixed start: chosen by the specification never to begin a valid request of a common protocol. */
const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a])
/** Signature, version and command, family and protocol, and the length of what follows. */
const V2_FIXED_LENGTH = 16
/** Bytes of the address block, per v2 address family: the TLVs, if any, follow it. */
const V2_ADDRESS_LENGTH = { tcp4: 12, tcp6: 36, unix: 216 } as const
const UNIX_PATH_LENGTH = 108
const V1_PORT = /^(0|[1-9][0-9]{0,4})$/
const NO_HEADER = 'the connection did not start with a PROXY protocol header (v1 "PROXY ..." or v2): a client that bypassed the load balancer, or a balancer not set to send the PROXY protocol'

/**
 * Reads a PROXY protocol header of either version from a byte stream, chunk by chunk: feed it
 * each chunk as it arrives until it answers `complete` or `refused`. It keeps at most 232 bytes
 * (a v1 line, or a v2 header's fixed part and largest address block); v2 TLVs, of no use to
 * this broker, are counted past, not kept, so a header costs little memory whatever its length. A refusal comes as soon as
 * a byte shows the input cannot be a header, so a client that sent MQTT straight away is turned
 * away at its first byte.
 */
export class ProxyHeaderParser {
  private readonly kept: Buffer[] = []
  private keptLength = 0
  private version: 1 | 2 | undefined
  /** v2: bytes after the fixed 16 still to read (addresses and TLVs), known once 16 have arrived. */
  private v2Remaining: number | undefined
  private finished: ProxyHeaderOutcome | undefined

  /** Reads the next chunk; once the answer was `complete`, later bytes are the client's, not the parser's. */
  push (chunk: Buffer): ProxyHeaderOutcome {
    if (this.finished?.state === 'complete') throw new Error('the PROXY protocol header is complete: the bytes after it belong to the client')
    if (this.finished !== undefined) return this.finished
    const outcome = this.consume(chunk)
    if (outcome.state !== 'incomplete') this.finished = outcome
    return outcome
  }

  private consume (chunk: Buffer): ProxyHeaderOutcome {
    if (chunk.length === 0) return { state: 'incomplete' }
    this.version ??= chunk[0] === V1_PREFIX[0] ? 1 : chunk[0] === V2_SIGNATURE[0] ? 2 : undefined
    if (this.version === undefined) return refused(NO_HEADER)
    return this.version === 1 ? this.consumeV1(chunk) : this.consumeV2(chunk)
  }

  private consumeV1 (chunk: Buffer): ProxyHeaderOutcome {
    const room = V1_MAX_LENGTH - this.keptLength
    const newline = chunk.subarray(0, room).indexOf(0x0a)
    const taken = newline >= 0 ? chunk.subarray(0, newline + 1) : chunk.subarray(0, room)
    const start = this.keptLength
    this.keep(taken)
    const line = Buffer.concat(this.kept, this.keptLength)
    const prefixSeen = Math.min(line.length, V1_PREFIX.length)
    if (start < V1_PREFIX.length && !line.subarray(0, prefixSeen).equals(V1_PREFIX.subarray(0, prefixSeen))) {
      return refused(NO_HEADER)
    }
    if (newline < 0) {
      return this.keptLength >= V1_MAX_LENGTH ? refused(`PROXY protocol v1 header without CRLF in its first ${V1_MAX_LENGTH} bytes`) : { state: 'incomplete' }
    }
    if (line.length < 2 || line[line.length - 2] !== 0x0d) return refused('PROXY protocol v1 header ends with LF instead of CRLF')
    const header = parseV1Line(line.subarray(0, line.length - 2).toString('latin1'))
    return typeof header === 'string' ? refused(header) : { state: 'complete', header, rest: chunk.subarray(taken.length) }
  }

  private consumeV2 (chunk: Buffer): ProxyHeaderOutcome {
    let offset = 0
    if (this.v2Remaining === undefined) {
      const wanted = Math.min(V2_FIXED_LENGTH - this.keptLength, chunk.length)
      const start = this.keptLength
      this.keep(chunk.subarray(0, wanted))
      offset = wanted
      const fixed = Buffer.concat(this.kept, this.keptLength)
      const signatureSeen = Math.min(fixed.length, V2_SIGNATURE.length)
      if (start < V2_SIGNATURE.length && !fixed.subarray(0, signatureSeen).equals(V2_SIGNATURE.subarray(0, signatureSeen))) {
        return refused(NO_HEADER)
      }
      if (fixed.length < V2_FIXED_LENGTH) return { state: 'incomplete' }
      const problem = checkV2Fixed(fixed)
      if (problem !== undefined) return refused(problem)
      this.v2Remaining = fixed.readUInt16BE(14)
    }
    const available = Math.min(this.v2Remaining, chunk.length - offset)
    // Only the address block is kept; the TLVs after it are skipped.
    const addressRoom = Math.max(0, V2_FIXED_LENGTH + V2_ADDRESS_LENGTH.unix - this.keptLength)
    this.keep(chunk.subarray(offset, offset + Math.min(available, addressRoom)))
    this.v2Remaining -= available
    offset += available
    if (this.v2Remaining > 0) return { state: 'incomplete' }
    const header = parseV2(Buffer.concat(this.kept, this.keptLength))
    return typeof header === 'string' ? refused(header) : { state: 'complete', header, rest: chunk.subarray(offset) }
  }

  private keep (bytes: Buffer): void {
    if (bytes.length === 0) return
    this.kept.push(bytes)
    this.keptLength += bytes.length
  }
}

function refused (reason: string): ProxyHeaderOutcome {
  return { state: 'refused', reason }
}

/** A v1 line without its CRLF, as the header it is, or why it is none. */
function parseV1Line (line: string): ProxyHeader | string {
  const fields = line.split(' ')
  // UNKNOWN: the balancer could not tell (or would not say); whatever follows is to be ignored.
  if (fields[1] === 'UNKNOWN') return { command: 'local', version: 1 }
  if (fields[1] !== 'TCP4' && fields[1] !== 'TCP6') return `PROXY protocol v1 header with protocol "${printable(fields[1] ?? '')}"; expected TCP4, TCP6 or UNKNOWN`
  if (fields.length !== 6) return `PROXY protocol v1 ${fields[1]} header needs exactly source address, destination address, source port and destination port, separated by single spaces`
  const family = fields[1] === 'TCP4' ? 'tcp4' : 'tcp6'
  const [sourceAddress, destinationAddress] = [fields[2]!, fields[3]!].map(text => family === 'tcp4' ? ipv4Text(text) : ipv6Text(text))
  const [sourcePort, destinationPort] = [fields[4]!, fields[5]!].map(portNumber)
  if (sourceAddress === undefined || destinationAddress === undefined) return `PROXY protocol v1 ${fields[1]} header with an address that is not ${family === 'tcp4' ? 'IPv4' : 'IPv6'}: "${printable(line)}"`
  if (sourcePort === undefined || destinationPort === undefined) return `PROXY protocol v1 header with a port that is not a number from 0 to 65535: "${printable(line)}"`
  return { command: 'proxy', version: 1, family, source: { address: sourceAddress, port: sourcePort }, destination: { address: destinationAddress, port: destinationPort } }
}

/** Why the fixed 16 bytes of a v2 header (signature already checked) are wrong, if they are. */
function checkV2Fixed (fixed: Buffer): string | undefined {
  const versionAndCommand = fixed[12]!
  if (versionAndCommand >> 4 !== 2) return `PROXY protocol v2 header with version ${versionAndCommand >> 4}; expected 2`
  if ((versionAndCommand & 0x0f) > 1) return `PROXY protocol v2 header with command ${versionAndCommand & 0x0f}; expected 0 (LOCAL) or 1 (PROXY)`
  return undefined
}

/** A whole v2 header (its TLVs left out) as the header it is, or why it is none. */
function parseV2 (header: Buffer): ProxyHeader | string {
  // LOCAL: the balancer speaks for itself (a health check); the address block is to be ignored.
  if ((header[12]! & 0x0f) === 0) return { command: 'local', version: 2 }
  const familyAndProtocol = header[13]!
  const protocol = familyAndProtocol & 0x0f
  if (protocol > 1) return `PROXY protocol v2 header with transport protocol ${protocol}; expected 1 (stream, as TCP) or 0 (unspecified)`
  if ((familyAndProtocol >> 4) > 3) return `PROXY protocol v2 header with address family ${familyAndProtocol >> 4}; expected 0 to 3`
  const family = ([undefined, 'tcp4', 'tcp6', 'unix'] as const)[familyAndProtocol >> 4]
  // Unspecified family: the specification says to use the connection's own endpoints.
  if (family === undefined || protocol === 0) return { command: 'local', version: 2 }
  const length = header.readUInt16BE(14)
  if (length < V2_ADDRESS_LENGTH[family]) return `PROXY protocol v2 header of ${length} bytes after the fixed part, too short for its ${family} addresses (${V2_ADDRESS_LENGTH[family]})`
  const block = header.subarray(V2_FIXED_LENGTH)
  if (family === 'tcp4') {
    return { command: 'proxy', version: 2, family, source: { address: ipv4Bytes(block.subarray(0, 4)), port: block.readUInt16BE(8) }, destination: { address: ipv4Bytes(block.subarray(4, 8)), port: block.readUInt16BE(10) } }
  }
  if (family === 'tcp6') {
    return { command: 'proxy', version: 2, family, source: { address: ipv6Bytes(block.subarray(0, 16)), port: block.readUInt16BE(32) }, destination: { address: ipv6Bytes(block.subarray(16, 32)), port: block.readUInt16BE(34) } }
  }
  return { command: 'proxy', version: 2, family, source: { address: unixPath(block.subarray(0, UNIX_PATH_LENGTH)), port: 0 }, destination: { address: unixPath(block.subarray(UNIX_PATH_LENGTH, 2 * UNIX_PATH_LENGTH)), port: 0 } }
}

function ipv4Text (text: string): string | undefined {
  return isIPv4(text) ? text : undefined
}

/** IPv6 text in the form Node gives a socket's address (lower case, zeros compressed), so both compare equal. */
function ipv6Text (text: string): string | undefined {
  try {
    return new SocketAddress({ address: text, family: 'ipv6' }).address
  } catch {
    return undefined
  }
}

function portNumber (text: string): number | undefined {
  return V1_PORT.test(text) && Number(text) <= 65535 ? Number(text) : undefined
}

function ipv4Bytes (bytes: Buffer): string {
  return [...bytes].join('.')
}

function ipv6Bytes (bytes: Buffer): string {
  const groups: string[] = []
  for (let index = 0; index < 16; index += 2) groups.push(bytes.readUInt16BE(index).toString(16))
  // Eight hex groups are always a valid address; this only brings it to Node's compressed form.
  return ipv6Text(groups.join(':'))!
}

/** A UNIX socket path: NUL-terminated within its 108 bytes (or a leading NUL for an abstract socket). */
function unixPath (bytes: Buffer): string {
  const end = bytes.indexOf(0, 1)
  return `unix:${bytes.subarray(0, end < 0 ? bytes.length : end).toString('utf8').replace(/^\0/, '@')}`
}

/** Header text as a log line may quote it: control bytes shown as escapes, and not too long. */
function printable (text: string): string {
  return JSON.stringify(text.slice(0, V1_MAX_LENGTH)).slice(1, -1)
}
