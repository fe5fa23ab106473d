import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createMessage } from '../../actors/router/message.js'
import { RetainedStore } from '../../actors/router/retained-store.js'

const test = suite('retained store')
const message = (topic: string, payload = 'x') => createMessage({ topic, payload: Buffer.from(payload), qos: 0, retain: true })
const topics = (store: RetainedStore, filter: string): string[] => store.match(filter).map(m => m.topic).sort()

test('[MQTT-3.3.1-5] a new retained message replaces the one on its topic', () => {
  const store = new RetainedStore()
  store.set(message('a/b', 'one'))
  store.set(message('a/b', 'two'))
  assert.is(store.size, 1)
  assert.is(store.get('a/b')!.payload.toString(), 'two')
})

test('[MQTT-3.3.1-10] [MQTT-3.3.1-11] an empty payload clears the topic', () => {
  const store = new RetainedStore()
  store.set(message('a/b'))
  store.set(message('a/b', ''))
  assert.is(store.size, 0)
  assert.is(store.get('a/b'), undefined)
})

test('wildcard filters find retained messages by walking the filter', () => {
  const store = new RetainedStore()
  for (const topic of ['a', 'a/b', 'a/b/c', 'a/x/c', 'b/b', '$SYS/up']) store.set(message(topic))
  assert.equal(topics(store, 'a/#'), ['a', 'a/b', 'a/b/c', 'a/x/c'])
  assert.equal(topics(store, 'a/+/c'), ['a/b/c', 'a/x/c'])
  assert.equal(topics(store, '+/b'), ['a/b', 'b/b'])
  assert.equal(topics(store, 'a/b'), ['a/b'])
})

test('[MQTT-4.7.2-1] # and + at the first level do not return $ topics', () => {
  const store = new RetainedStore()
  store.set(message('$SYS/up'))
  store.set(message('plain'))
  assert.equal(topics(store, '#'), ['plain'])
  assert.equal(topics(store, '+/up'), [])
  assert.equal(topics(store, '$SYS/#'), ['$SYS/up'])
})

test('deleting prunes empty branches and keeps others', () => {
  const store = new RetainedStore()
  store.set(message('a/b/c'))
  store.set(message('a/d'))
  assert.ok(store.delete('a/b/c'))
  assert.not.ok(store.delete('a/b/c'))
  assert.equal(topics(store, '#'), ['a/d'])
  assert.is([...store.all()].length, 1)
})

test.run()
