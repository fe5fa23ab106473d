import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { ProxyHeaderParser, V1_MAX_LENGTH, type ProxyHeader, type ProxyHeaderOutcome } from '../../runtime/listeners/proxy-protocol-header.js'

/** The PROXY protocol header parser, fed whole headers, then byte by byte, then broken ones. */

const test = suite('PROXY protocol header')

const SIGNATURE = Buffer.from('0d0a0d0a000d0a515549540a', 'hex')
/** An MQTT 3.1.1 CONNECT with client id "a", as a client would send it after the header. */
const CONNECT = Buffer.from([0x10, 0x0d, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, 0x02, 0x00, 0x3c, 0x00, 0x01, 0x61])

/** A v2 header: command (0 LOCAL, 1 PROXY), family and protocol byte, address block and TLVs. */
function v2 (command: number, familyAndProtocol: number, addresses: Buffer, tlvs: Buffer = Buffer.alloc(0), version = 2): Buffer {
  const length = Buffer.alloc(2)
  length.writeUInt16BE(addresses.length + tlvs.length)
  return Buffer.concat([SIGNATURE, Buffer.from([(version << 4) | command, familyAndProtocol]), length, addresses, tlvs])
}

function ports (source: number, destination: number): Buffer {
  const bytes = Buffer.alloc(4)
  bytes.writeUInt16BE(source, 0)
  bytes.writeUInt16BE(destination, 2)
  return bytes
}

function tlv (type: number, value: Buffer): Buffer {
  const header = Buffer.from([type, 0, 0])
  header.writeUInt16BE(value.length, 1)
  return Buffer.concat([header, value])
}

/** A NOOP, an authority (SNI) and a unique-id TLV, as HAProxy or a cloud balancer may add. */
const TLVS = Buffer.concat([tlv(0x04, Buffer.alloc(3)), tlv(0x02, Buffer.from('broker.example.com')), tlv(0x05, Buffer.alloc(300, 7))])

function unixPath (path: string): Buffer {
  const bytes = Buffer.alloc(108)
  bytes.write(path)
  return bytes
}

const IPV4 = v2(1, 0x11, Buffer.concat([Buffer.from([192, 0, 2, 10]), Buffer.from([10, 0, 0, 5]), ports(51234, 1883)]), TLVS)
const IPV6 = v2(1, 0x21, Buffer.concat([Buffer.from('20010db8000000000000000000000001', 'hex'), Buffer.from('00000000000000000000ffff7f000001', 'hex'), ports(40000, 1883)]), TLVS)
const UNIX = v2(1, 0x31, Buffer.concat([unixPath('/run/client.sock'), unixPath('/run/troupe.sock')]), TLVS)
const LOCAL = v2(0, 0x00, Buffer.alloc(0))
const LONGEST_IPV6 = 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'

/** Each well-formed header and what it must be read as. */
const VALID: Array<[string, Buffer, ProxyHeader]> = [
  ['v1 TCP4', Buffer.from('PROXY TCP4 192.0.2.10 10.0.0.5 51234 1883\r\n'),
    { command: 'proxy', version: 1, family: 'tcp4', source: { address: '192.0.2.10', port: 51234 }, destination: { address: '10.0.0.5', port: 1883 } }],
  ['v1 TCP6 (addresses brought to the form Node gives its sockets)', Buffer.from('PROXY TCP6 2001:DB8:0:0:0:0:0:1 ::ffff:127.0.0.1 65535 0\r\n'),
    { command: 'proxy', version: 1, family: 'tcp6', source: { address: '2001:db8::1', port: 65535 }, destination: { address: '::ffff:127.0.0.1', port: 0 } }],
  ['v1 UNKNOWN', Buffer.from('PROXY UNKNOWN\r\n'), { command: 'local', version: 1 }],
  ['v1 UNKNOWN with addresses, which are ignored, of the longest length allowed (107 bytes)', Buffer.from(`PROXY UNKNOWN ${LONGEST_IPV6} ${LONGEST_IPV6} 65535 65535\r\n`), { command: 'local', version: 1 }],
  ['v1 TCP6 with the longest addresses and ports', Buffer.from('PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n'),
    { command: 'proxy', version: 1, family: 'tcp6', source: { address: 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', port: 65535 }, destination: { address: 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', port: 65535 } }],
  ['v2 PROXY IPv4 with TLVs', IPV4,
    { command: 'proxy', version: 2, family: 'tcp4', source: { address: '192.0.2.10', port: 51234 }, destination: { address: '10.0.0.5', port: 1883 } }],
  ['v2 PROXY IPv6 with TLVs', IPV6,
    { command: 'proxy', version: 2, family: 'tcp6', source: { address: '2001:db8::1', port: 40000 }, destination: { address: '::ffff:127.0.0.1', port: 1883 } }],
  ['v2 PROXY UNIX with TLVs', UNIX,
    { command: 'proxy', version: 2, family: 'unix', source: { address: 'unix:/run/client.sock', port: 0 }, destination: { address: 'unix:/run/troupe.sock', port: 0 } }],
  ['v2 LOCAL (a health check)', LOCAL, { command: 'local', version: 2 }],
  ['v2 LOCAL with an IPv4 address block and TLVs, which are ignored', v2(0, 0x11, Buffer.alloc(12, 1), TLVS), { command: 'local', version: 2 }],
  ['v2 PROXY of the unspecified family', v2(1, 0x00, Buffer.alloc(0)), { command: 'local', version: 2 }]
]

for (const [name, bytes, header] of VALID) {
  test(`${name}: read whole, the MQTT bytes after it left untouched`, () => {
    const outcome = new ProxyHeaderParser().push(Buffer.concat([bytes, CONNECT]))
    assert.equal(outcome, { state: 'complete', header, rest: CONNECT })
  })

  test(`${name}: read one byte at a time, complete at its last byte and not before`, () => {
    const parser = new ProxyHeaderParser()
    for (let index = 0; index < bytes.length - 1; index++) {
      assert.equal(parser.push(bytes.subarray(index, index + 1)), { state: 'incomplete' }, `after byte ${index + 1} of ${bytes.length}`)
    }
    assert.equal(parser.push(Buffer.concat([bytes.subarray(-1), CONNECT])), { state: 'complete', header, rest: CONNECT })
  })
}

test('a header that ends exactly at the end of a chunk leaves no bytes over, and the next chunk is the client\'s', () => {
  const parser = new ProxyHeaderParser()
  assert.equal(parser.push(IPV4.subarray(0, 20)), { state: 'incomplete' })
  const outcome = parser.push(IPV4.subarray(20))
  assert.is(outcome.state, 'complete')
  assert.is(outcome.state === 'complete' && outcome.rest.length, 0)
  assert.throws(() => parser.push(CONNECT), /belong to the client/)
})

/** Broken or foreign input, and a word its refusal must contain. */
const MALFORMED: Array<[string, Buffer, string]> = [
  ['plain MQTT: a CONNECT with no header', CONNECT, 'did not start with a PROXY protocol header'],
  ['HTTP', Buffer.from('GET / HTTP/1.1\r\n\r\n'), 'did not start with a PROXY protocol header'],
  ['v1 with a misspelt start', Buffer.from('PROXI TCP4 1.2.3.4 5.6.7.8 1 2\r\n'), 'did not start with a PROXY protocol header'],
  ['v1 ending in LF alone', Buffer.from('PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n'), 'CRLF'],
  ['v1 with an unknown protocol', Buffer.from('PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n'), 'TCP4, TCP6 or UNKNOWN'],
  ['v1 lower case', Buffer.from('PROXY tcp4 1.2.3.4 5.6.7.8 1 2\r\n'), 'TCP4, TCP6 or UNKNOWN'],
  ['v1 without ports', Buffer.from('PROXY TCP4 1.2.3.4 5.6.7.8\r\n'), 'exactly'],
  ['v1 with two spaces', Buffer.from('PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n'), 'exactly'],
  ['v1 with a trailing field', Buffer.from('PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n'), 'exactly'],
  ['v1 TCP4 with an IPv6 address', Buffer.from('PROXY TCP4 ::1 5.6.7.8 1 2\r\n'), 'not IPv4'],
  ['v1 TCP4 with an octet over 255', Buffer.from('PROXY TCP4 1.2.3.256 5.6.7.8 1 2\r\n'), 'not IPv4'],
  ['v1 TCP6 with an IPv4 address', Buffer.from('PROXY TCP6 1.2.3.4 ::1 1 2\r\n'), 'not IPv6'],
  ['v1 with a port over 65535', Buffer.from('PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n'), 'port'],
  ['v1 with a port with a leading zero', Buffer.from('PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n'), 'port'],
  ['v1 with a negative port', Buffer.from('PROXY TCP4 1.2.3.4 5.6.7.8 -1 2\r\n'), 'port'],
  ['v2 with a wrong signature byte', Buffer.concat([SIGNATURE.subarray(0, 5), Buffer.from([0x0e]), IPV4.subarray(6)]), 'did not start with a PROXY protocol header'],
  ['v2 of version 1', v2(1, 0x11, Buffer.alloc(12), Buffer.alloc(0), 1), 'version 1'],
  ['v2 of version 3', v2(1, 0x11, Buffer.alloc(12), Buffer.alloc(0), 3), 'version 3'],
  ['v2 with command 2', v2(2, 0x11, Buffer.alloc(12)), 'command 2'],
  ['v2 with address family 4', v2(1, 0x41, Buffer.alloc(12)), 'address family 4'],
  ['v2 over datagrams (UDP)', v2(1, 0x12, Buffer.alloc(12)), 'transport protocol 2'],
  ['v2 IPv4 with an address block too short', v2(1, 0x11, Buffer.alloc(8)), 'too short'],
  ['v2 IPv6 with an IPv4-sized address block', v2(1, 0x21, Buffer.alloc(12)), 'too short'],
  ['v2 UNIX with an IPv6-sized address block', v2(1, 0x31, Buffer.alloc(36)), 'too short']
]

for (const [name, bytes, expected] of MALFORMED) {
  test(`refused: ${name}, whole or byte by byte, and still refused after`, () => {
    const whole = new ProxyHeaderParser().push(Buffer.concat([bytes, CONNECT]))
    assert.is(whole.state, 'refused')
    assert.ok(whole.state === 'refused' && whole.reason.includes(expected), `"${expected}" in: ${JSON.stringify(whole)}`)
    const parser = new ProxyHeaderParser()
    let outcome: ProxyHeaderOutcome = { state: 'incomplete' }
    for (let index = 0; index < bytes.length && outcome.state === 'incomplete'; index++) outcome = parser.push(bytes.subarray(index, index + 1))
    assert.equal(outcome, whole)
    assert.equal(parser.push(CONNECT), whole)
  })
}

test('plain MQTT is refused at its first byte, without waiting for more', () => {
  const outcome = new ProxyHeaderParser().push(CONNECT.subarray(0, 1))
  assert.is(outcome.state, 'refused')
})

test('a v1 line without CRLF is refused at its 107th byte, not read on for ever', () => {
  const parser = new ProxyHeaderParser()
  const line = Buffer.from(`PROXY TCP4 ${'1'.repeat(200)}`)
  for (let index = 0; index < V1_MAX_LENGTH - 1; index++) assert.equal(parser.push(line.subarray(index, index + 1)), { state: 'incomplete' }, `after byte ${index + 1}`)
  const outcome = parser.push(line.subarray(V1_MAX_LENGTH - 1, V1_MAX_LENGTH))
  assert.ok(outcome.state === 'refused' && outcome.reason.includes('107'), JSON.stringify(outcome))
  const whole = new ProxyHeaderParser().push(line)
  assert.ok(whole.state === 'refused' && whole.reason.includes('107'), JSON.stringify(whole))
})

test('a v1 line of 108 bytes with its CRLF at the end is refused: too long', () => {
  const line = Buffer.from(`PROXY UNKNOWN ${LONGEST_IPV6} ${LONGEST_IPV6} 65535 655350\r\n`)
  assert.is(line.length, V1_MAX_LENGTH + 1)
  assert.is(VALID[3]![1].length, V1_MAX_LENGTH, 'the longest valid line, read above')
  const outcome = new ProxyHeaderParser().push(line)
  assert.ok(outcome.state === 'refused' && outcome.reason.includes('107'), JSON.stringify(outcome))
})

test('v2 TLVs up to the longest length the header allows are read past, in chunks, to the bytes after them', () => {
  const header = v2(1, 0x11, Buffer.concat([Buffer.from([127, 0, 0, 1, 127, 0, 0, 2]), ports(1, 2)]), tlv(0xe0, Buffer.alloc(65535 - 12 - 3, 1)))
  const input = Buffer.concat([header, CONNECT])
  const parser = new ProxyHeaderParser()
  let outcome: ProxyHeaderOutcome = { state: 'incomplete' }
  let offset = 0
  for (; outcome.state === 'incomplete' && offset < input.length; offset += 1000) outcome = parser.push(input.subarray(offset, offset + 1000))
  assert.ok(outcome.state === 'complete' && outcome.header.command === 'proxy' && outcome.header.source.address === '127.0.0.1', JSON.stringify(outcome).slice(0, 300))
  assert.ok(outcome.state === 'complete' && outcome.rest.equals(input.subarray(header.length, offset)))
})

test.run()
