import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createMessage } from '../../actors/router/message.js'
import type { Delivery } from '../../actors/session/delivery.js'
import type { InflightState } from '../../actors/session/inflight.js'
import type { SessionJournal } from '../../actors/session/session-journal.js'
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

/** A journal that keeps what a store would hold: each held message by seq, and the release ids. */
class RecordingJournal implements SessionJournal {
  readonly held = new Map<number, { topic: string, packetId?: number, state?: InflightState }>()
  readonly releases = new Set<number>()
  kept (_session: Session, seq: number, delivery: Delivery, _fresh: boolean, packetId?: number, state?: InflightState): void {
    this.held.set(seq, { topic: delivery.message.topic, ...(packetId === undefined ? {} : { packetId, state }) })
  }

  forgotten (_session: Session, seq: number): void {
    this.held.delete(seq)
  }

  awaitingRelease (_session: Session, packetId: number, waiting: boolean): void {
    if (waiting) this.releases.add(packetId)
    else this.releases.delete(packetId)
  }
}

function journaled (limits = { maxInflight: 2, maxQueued: 10 }, expiryInterval = 0xFFFFFFFF) {
  const drops: DropReason[] = []
  const journal = new RecordingJournal()
  const session = new Session('c1', expiryInterval, limits, { dropped: (_s, _d, reason) => drops.push(reason) }, journal)
  return { session, journal, drops }
}

const test = suite('session')

test('a persistent session journals what it holds: queued, then inflight with its packet id, then gone on PUBACK', () => {
  const { session, journal } = journaled()
  const owner = new RecordingOwner()
  session.attach(owner)
  for (const topic of ['a', 'b', 'c']) session.deliver(delivery(topic, 1))
  assert.equal([...journal.held.values()].map(h => [h.topic, h.state]), [['a', 'awaitingPuback'], ['b', 'awaitingPuback'], ['c', undefined]])
  assert.ok(session.acknowledge(owner.sent[0]!.packetId!))
  assert.equal([...journal.held.values()].map(h => [h.topic, h.state]), [['b', 'awaitingPuback'], ['c', 'awaitingPuback']])
})

test('a QoS 2 delivery is journaled through PUBREC to PUBCOMP, and inbound QoS 2 ids until PUBREL', () => {
  const { session, journal } = journaled()
  const owner = new RecordingOwner()
  session.attach(owner)
  session.deliver(delivery('q2', 2))
  const packetId = owner.sent[0]!.packetId!
  assert.ok(session.received(packetId))
  assert.equal([...journal.held.values()].map(h => h.state), ['awaitingPubcomp'])
  assert.ok(session.complete(packetId))
  assert.is(journal.held.size, 0)
  session.holdInbound(7)
  assert.equal([...journal.releases], [7])
  assert.ok(session.releaseInbound(7))
  assert.not.ok(session.releaseInbound(7))
  assert.equal([...journal.releases], [])
})

test('a clean session (expiry 0) journals nothing', () => {
  const { session, journal } = journaled({ maxInflight: 1, maxQueued: 10 }, 0)
  session.attach(new RecordingOwner())
  session.deliver(delivery('a', 1))
  session.deliver(delivery('b', 1))
  assert.is(journal.held.size, 0)
})

test('[MQTT-3.3.2-5] queued messages whose expiry ran out are purged from the session and the journal', async () => {
  const { session, journal, drops } = journaled()
  const expiring = (topic: string, seconds: number, receivedAgoMs: number): Delivery => ({
    message: createMessage({ topic, payload: Buffer.from(topic), qos: 1, retain: false, properties: { messageExpiryInterval: seconds }, receivedAt: Date.now() - receivedAgoMs }),
    qos: 1,
    retain: false
  })
  // Offline: everything queues. The first has 100 ms of its one second left.
  session.deliver(expiring('old', 1, 900))
  session.deliver(expiring('fresh', 60, 0))
  session.deliver(delivery('forever', 1))
  assert.is(journal.held.size, 3)
  await new Promise(resolve => setTimeout(resolve, 200))
  session.purgeExpired()
  assert.equal([...session.queue].map(d => d.message.topic), ['fresh', 'forever'])
  assert.equal([...journal.held.values()].map(h => h.topic), ['fresh', 'forever'])
  assert.equal(drops, ['expired'])
})

test('messages restored from a store come back in order, sent ones re-sent with DUP on resume [MQTT-4.4.0-1]', () => {
  const { session, journal } = journaled({ maxInflight: 5, maxQueued: 10 })
  session.restoreHeld([
    { seq: 4, delivery: delivery('sent', 1), packetId: 9, state: 'awaitingPuback' },
    { seq: 5, delivery: delivery('released', 2), packetId: 10, state: 'awaitingPubcomp' },
    { seq: 6, delivery: delivery('queued', 1) }
  ], [3])
  const owner = new RecordingOwner()
  session.attach(owner)
  session.resume()
  assert.equal(owner.sent, [
    { kind: 'publish', topic: 'sent', packetId: 9, dup: true },
    { kind: 'pubrel', packetId: 10 },
    { kind: 'publish', topic: 'queued', packetId: owner.sent[2]!.packetId, dup: false }
  ])
  assert.not.ok([9, 10].includes(owner.sent[2]!.packetId!), 'a new packet id, not one in use')
  assert.ok(session.awaitingRelease.has(3))
  // The queued message went inflight under its restored seq: the journal replaces that record.
  assert.equal([...journal.held.entries()].map(([seq, h]) => [seq, h.state]), [[6, 'awaitingPuback']])
  session.deliver(delivery('new', 1))
  assert.ok([...journal.held.keys()].every(seq => seq >= 6), 'new messages continue after the restored seqs')
  assert.ok([...journal.held.keys()].includes(7))
})

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
