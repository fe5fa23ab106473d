import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { EventTrail } from '../../actors/connection/event-trail.js'

/**
 * The trail of a connection's last machine events that the monitor's connection page shows:
 * a ring of the last 32, read oldest first, with xstate's nested state values as dotted names.
 */

const test = suite('event trail')

test('a fresh trail is empty', () => {
  assert.equal(new EventTrail().entries(), [])
})

test('fewer events than the ring holds come back all, oldest first', () => {
  const trail = new EventTrail()
  trail.record('socket.data', 'awaitingConnect')
  trail.record('connect.accepted', { connected: 'serving' })
  trail.record('socket.closed', 'closed')
  assert.equal(trail.entries().map(entry => entry.event), ['socket.data', 'connect.accepted', 'socket.closed'])
})

test('keeps only the last 32 events, oldest first', () => {
  const trail = new EventTrail()
  for (let i = 0; i < 75; i++) trail.record(`event-${i}`, 'connected')
  const events = trail.entries().map(entry => entry.event)
  assert.is(events.length, 32)
  assert.equal(events, Array.from({ length: 32 }, (_, i) => `event-${75 - 32 + i}`))
})

test('exactly 32 events: all of them, the first one first', () => {
  const trail = new EventTrail()
  for (let i = 0; i < 32; i++) trail.record(`event-${i}`, 'connected')
  const events = trail.entries().map(entry => entry.event)
  assert.is(events[0], 'event-0')
  assert.is(events[31], 'event-31')
  assert.is(events.length, 32)
})

test('nested states read as dotted names, a flat state as its own name', () => {
  const trail = new EventTrail()
  trail.record('a', 'awaitingConnect')
  trail.record('b', { connected: 'serving' })
  trail.record('c', { connected: { serving: 'draining' } })
  assert.equal(trail.entries().map(entry => entry.state), ['awaitingConnect', 'connected.serving', 'connected.serving.draining'])
})

test('each entry carries when it was recorded', () => {
  const trail = new EventTrail()
  const before = Date.now()
  trail.record('a', 'connected')
  const after = Date.now()
  const at = trail.entries()[0]!.at
  assert.ok(at >= before && at <= after, `recorded at ${at}, between ${before} and ${after}`)
})

test('the state recorded is the one at the time, not the latest', () => {
  const trail = new EventTrail()
  trail.record('a', { connected: 'serving' })
  trail.record('b', 'closed')
  assert.equal(trail.entries().map(entry => `${entry.event}@${entry.state}`), ['a@connected.serving', 'b@closed'])
})

test.run()
