import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { TokenBucket } from '../../actors/connection/limits/token-bucket.js'
import { ConnectionAdmission, type Admission } from '../../runtime/limits/connection-admission.js'

/** The accept-time decisions on their own, where thousands of addresses cost nothing to try. */

const test = suite('connection admission')

function kinds (admissions: readonly Admission[]): string[] {
  return admissions.map(admission => admission.kind === 'admitted' ? 'admitted' : `${admission.kind} ${admission.refusal.limit} 0x${admission.refusal.reasonCode.toString(16)}`)
}

test('max-connections: beyond it sockets are refused with 0x89, and past as many again (at least 100) destroyed; a closed one makes room', () => {
  const admission = new ConnectionAdmission({ maxConnections: 2, maxConnectionsPerAddress: 0, maxConnectionRate: 0 }, () => false)
  const results = Array.from({ length: 103 }, (_, index) => admission.admit(`10.0.0.${index % 250}`))
  assert.equal(kinds(results.slice(0, 3)), ['admitted', 'admitted', 'refused max-connections 0x89'])
  assert.is(results.filter(result => result.kind === 'refused').length, 100, 'a backlog of 100 refusals is answered')
  assert.equal(kinds(results.slice(102)), ['dropped max-connections 0x89'])
  const first = results[0]!
  if (first.kind !== 'admitted') throw new Error('the first was admitted')
  admission.release(first.ticket)
  admission.release(first.ticket)
  assert.is(admission.connections, 1, 'releasing twice counts once')
  assert.equal(kinds([admission.admit('10.0.0.1')]), ['admitted'])
  admission.stop()
})

test('max-connections-per-address and the memory watermark refuse with their own reason codes', () => {
  let overloaded = false
  const admission = new ConnectionAdmission({ maxConnections: 0, maxConnectionsPerAddress: 1, maxConnectionRate: 0 }, () => overloaded)
  assert.equal(kinds([admission.admit('a'), admission.admit('a'), admission.admit('b')]), ['admitted', 'refused max-connections-per-address 0x97', 'admitted'])
  overloaded = true
  assert.equal(kinds([admission.admit('c')]), ['refused memory-watermark 0x89'])
  admission.stop()
})

test('max-connection-rate: a burst of the rate, then 0x9F for that address only', () => {
  const admission = new ConnectionAdmission({ maxConnections: 0, maxConnectionsPerAddress: 0, maxConnectionRate: 3 }, () => false)
  const fromOne = Array.from({ length: 4 }, () => admission.admit('198.51.100.7'))
  assert.equal(kinds(fromOne), ['admitted', 'admitted', 'admitted', 'refused max-connection-rate 0x9f'])
  assert.equal(kinds([admission.admit('198.51.100.8')]), ['admitted'])
  admission.stop()
})

test('a scan from 150,000 addresses does not grow the per-address table without bound', () => {
  const admission = new ConnectionAdmission({ maxConnections: 0, maxConnectionsPerAddress: 0, maxConnectionRate: 5 }, () => false)
  for (let index = 0; index < 150_000; index++) {
    const result = admission.admit(`2001:db8::${index.toString(16)}`)
    if (result.kind !== 'dropped') admission.release(result.ticket)
  }
  assert.ok(admission.trackedAddresses <= 100_000, `at most 100,000 addresses remembered (got ${admission.trackedAddresses})`)
  assert.is(admission.connections, 0)
  admission.stop()
})

test('a token bucket lets a cost larger than its burst through from a full bucket, then makes the next wait', () => {
  const bucket = new TokenBucket(1000, 1000, 0)
  assert.ok(bucket.trySpend(5000, 0), 'nothing is too large ever to pass')
  assert.is(bucket.waitFor(1, 0), 4001, 'the debt is repaid first, at the rate')
  assert.not.ok(bucket.trySpend(1, 4000))
  assert.ok(bucket.trySpend(1, 4001))
  assert.ok(bucket.isFull(6000))
})

test.run()
