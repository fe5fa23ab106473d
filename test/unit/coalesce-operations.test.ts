import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { coalesceOperations } from '../../persistence/coalesce-operations.js'
import type { StoreOperation } from '../../persistence/store.js'

const message = { topic: 't', payload: Buffer.from('x'), qos: 1 as const, retain: false, receivedAt: 0 }
const put = (clientId: string, seq: number, fresh: boolean): StoreOperation =>
  ({ type: 'session.message.put', record: { clientId, seq, message, qos: 1, retain: false }, fresh })
const del = (clientId: string, seq: number): StoreOperation => ({ type: 'session.message.delete', clientId, seq })
const describe = (operations: readonly StoreOperation[]): string[] => operations.map(operation => {
  switch (operation.type) {
    case 'session.message.put': return `put ${operation.record.clientId}/${operation.record.seq}`
    case 'session.message.delete': return `del ${operation.clientId}/${operation.seq}`
    default: return operation.type
  }
})

const test = suite('coalesce store operations')

test('a message first written and deleted in one batch costs no write at all, updates included', () => {
  const operations = [put('a', 1, true), put('b', 1, true), put('a', 1, false), del('a', 1)]
  assert.equal(describe(coalesceOperations(operations)), ['put b/1'])
})

test('a delete of a message written in an earlier batch is kept, and so is its update', () => {
  const operations = [put('a', 1, false), del('a', 1), del('a', 2)]
  assert.equal(describe(coalesceOperations(operations)), ['put a/1', 'del a/1', 'del a/2'])
})

test('same seq of another client is another message', () => {
  const operations = [put('a', 1, true), del('ab', 1), put('ab', 1, true)]
  assert.equal(describe(coalesceOperations(operations)), ['put a/1', 'del ab/1', 'put ab/1'])
})

test('everything else keeps its order', () => {
  const operations: StoreOperation[] = [
    { type: 'retained.delete', topic: 'r' },
    put('a', 1, true),
    { type: 'session.release.put', clientId: 'a', packetId: 3 },
    del('a', 1),
    { type: 'session.delete', clientId: 'b' }
  ]
  assert.equal(describe(coalesceOperations(operations)), ['retained.delete', 'session.release.put', 'session.delete'])
})

test.run()
