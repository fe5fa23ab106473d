import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createMessage } from '../../actors/router/message.js'
import type { Delivery } from '../../actors/session/delivery.js'
import { Session, type DropReason, type SessionOwner } from '../../actors/session/session.js'

/** Records what the session asks its connection to send, as a socket would carry it. */
class RecordingOwner implements SessionOwner {
  backedUp = false
  receiveMaximum = 65535
  readonly sent: Array<{ kind: 'publish', topic: string, packetId: number | undefined, dup: boolean } | { kind: 'pubrel', packetId: number }> = []
  sendPublish (delivery: Delivery, packetId: number | undefined, dup: boolean): boolean {
    this.sent.push({ kind: 'publish', topic: delivery.message.topic, packetId, dup })
    return true
  }

  sendPubrel (packetId: number): void {
    this.sent.push({ kind: 'pubrel', packetId })
  }
}

function setup (limits = { maxInflight: 2, maxQueued: 3 }) {
  const drops: DropReason[] = []
  const session = new Session('c1', 0xFFFFFFFF, limits, { dropped: (_s, _d, reason) => drops.push(reason) })
  const owner = new RecordingOwner()
  session.attach(owner)
  return { session, owner, drops }
}

const delivery = (topic: string, qos: 0 | 1 | 2): Delivery => ({
  message: createMessage({ topic, payload: Buffer.from(topic), qos, retain: false }),
  qos,
  retain: false
})

const test = suite('session')

test('QoS 1 deliveries fill the inflight window, then queue, then drain in order on PUBACK', () => {
  const { session, owner } = setup()
  for (const topic of ['m1', 'm2', 'm3', 'm4']) session.deliver(delivery(topic, 1))
  assert.equal(owner.sent.map(s => s.kind === 'publish' ? s.topic : ''), ['m1', 'm2'])
  assert.is(session.queue.length, 2)
  const first = owner.sent[0]!
  assert.ok(session.acknowledge(first.packetId!))
  assert.equal(owner.sent.map(s => s.kind === 'publish' ? s.topic : ''), ['m1', 'm2', 'm3'])
})

test('[MQTT-2.3.1-2] packet ids in use are not reused', () => {
  const { session, owner } = setup({ maxInflight: 3, maxQueued: 10 })
  for (const topic of ['a', 'b', 'c']) session.deliver(delivery(topic, 1))
  const ids = owner.sent.map(s => s.packetId)
  assert.is(new Set(ids).size, 3)
  assert.not.ok(ids.includes(0))
})

test('a full queue drops and reports queue-full', () => {
  const { session, drops } = setup({ maxInflight: 1, maxQueued: 1 })
  session.deliver(delivery('a', 1))
  session.deliver(delivery('b', 1))
  session.deliver(delivery('c', 1))
  assert.equal(drops, ['queue-full'])
})

test('QoS 0 to a backed-up connection is dropped, QoS 1 waits in the queue', () => {
  const { session, owner, drops } = setup()
  owner.backedUp = true
  session.deliver(delivery('q0', 0))
  session.deliver(delivery('q1', 1))
  assert.equal(drops, ['backpressure'])
  assert.is(owner.sent.length, 0)
  owner.backedUp = false
  session.drain()
  assert.equal(owner.sent.map(s => s.kind === 'publish' ? s.topic : ''), ['q1'])
})

test('[MQTT-4.3.3-1] QoS 2: PUBREC moves to awaiting PUBCOMP, PUBCOMP frees the slot', () => {
  const { session, owner } = setup({ maxInflight: 1, maxQueued: 5 })
  session.deliver(delivery('x', 2))
  session.deliver(delivery('y', 2))
  const id = owner.sent[0]!.packetId!
  assert.not.ok(session.acknowledge(id), 'PUBACK does not complete a QoS 2 message')
  assert.ok(session.received(id))
  assert.is(owner.sent.length, 1)
  assert.ok(session.complete(id))
  assert.is(owner.sent.length, 2)
})

test('[MQTT-4.4.0-1] resume re-sends unacknowledged PUBLISH with DUP and pending PUBREL, in order', () => {
  const { session, owner } = setup({ maxInflight: 5, maxQueued: 5 })
  session.deliver(delivery('one', 1))
  session.deliver(delivery('two', 2))
  session.deliver(delivery('three', 2))
  const two = owner.sent[1]!.packetId!
  session.received(two)
  session.detach(owner)
  const next = new RecordingOwner()
  session.attach(next)
  session.resume()
  assert.equal(next.sent.map(s => `${s.kind}:${s.kind === 'publish' ? `${s.topic}:${String(s.dup)}` : s.packetId}`), [
    'publish:one:true', `pubrel:${two}`, 'publish:three:true'
  ])
})

test('offline: QoS 1 queues for a persistent session, QoS 0 is dropped', () => {
  const { session, owner, drops } = setup()
  session.detach(owner)
  session.deliver(delivery('a', 0))
  session.deliver(delivery('b', 1))
  assert.equal(drops, ['offline'])
  assert.is(session.queue.length, 1)
})

test.run()
