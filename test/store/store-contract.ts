import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { Subscription } from '../../actors/router/subscription.js'
import type { SessionMessageRecord, SessionRecord, Store, StoreContents, StoreOperation, StoredMessage, StoredSession } from '../../persistence/store.js'

/**
 * The contract every Store implementation passes. A new store runs this suite with a
 * factory that gives it a fresh, empty store (and, for durable stores, reopens the same one).
 */
export interface StoreFactory {
  /** A new empty store. */
  create (): Promise<Store>
  /** The same data reopened as a new instance, for stores that keep data across instances; undefined otherwise. */
  reopen?: (previous: Store) => Promise<Store>
  cleanup?: () => Promise<void>
}

const message = (topic: string, payload: string | Buffer, fields: Partial<StoredMessage> = {}): StoredMessage =>
  ({ topic, payload: Buffer.from(payload), qos: 1, retain: true, receivedAt: 1700000000000, ...fields })

const queued = (clientId: string, seq: number, fields: Partial<SessionMessageRecord> = {}): SessionMessageRecord =>
  ({ clientId, seq, message: message(`t/${clientId}/${seq}`, `m${seq}`, { retain: false }), qos: 1, retain: false, ...fields })

const session = (clientId: string, fields: Partial<SessionRecord> = {}): SessionRecord => ({ clientId, subscriptions: [], ...fields })

const EVERY_BYTE = Buffer.from(Array.from({ length: 256 }, (_, byte) => byte))

/** A message with every field a StoredMessage can have. */
const fullMessage = (topic: string): StoredMessage => ({
  topic,
  payload: EVERY_BYTE,
  qos: 2,
  retain: true,
  origin: 'publisher-ü',
  receivedAt: 1700000123456,
  properties: {
    payloadFormatIndicator: false,
    messageExpiryInterval: 3600,
    contentType: 'application/octet-stream',
    responseTopic: 'replies/élan',
    correlationData: Buffer.from([0, 255, 0, 1, 0x80]),
    // Order and repeated names are part of the message [MQTT-3.3.2-18].
    userProperties: [['z', 'last-name-first'], ['a', '1'], ['z', 'again'], ['', ''], ['ключ', '值']]
  }
})

const EVERY_SUBSCRIPTION_OPTION: readonly Subscription[] = [
  { filter: 'a/#', qos: 0, noLocal: false, retainAsPublished: false, retainHandling: 0 },
  { filter: 'b/+/c', qos: 1, noLocal: true, retainAsPublished: true, retainHandling: 1, subscriptionId: 268435455 },
  { filter: '$share/group/d/#', qos: 2, noLocal: false, retainAsPublished: true, retainHandling: 2, subscriptionId: 1 },
  { filter: 'capteurs/température/東京/🌡', qos: 2, noLocal: true, retainAsPublished: false, retainHandling: 0 }
]

/** Plain data with absent fields left out: an implementation may drop `field: undefined`. */
function normalise (value: unknown): unknown {
  if (Buffer.isBuffer(value)) return Buffer.from(value)
  if (Array.isArray(value)) return value.map(normalise)
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined).map(([name, field]) => [name, normalise(field)]))
  }
  return value
}

function sameData (actual: unknown, expected: unknown, message?: string): void {
  assert.equal(normalise(actual), normalise(expected), message)
}

const byClient = (contents: StoreContents): Map<string, StoredSession> => new Map(contents.sessions.map(s => [s.clientId, s]))

function sessionOf (contents: StoreContents, clientId: string): StoredSession {
  const found = byClient(contents).get(clientId)
  if (found === undefined) throw new Error(`session ${JSON.stringify(clientId)} should be loaded`)
  return found
}

const sortedContents = (contents: StoreContents): StoreContents => ({
  retained: [...contents.retained].sort((a, b) => a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : 0),
  sessions: [...contents.sessions].sort((a, b) => a.clientId < b.clientId ? -1 : a.clientId > b.clientId ? 1 : 0)
})

/** Something of every kind, with every field, for round trips and reopening. */
function everything (): { operations: StoreOperation[], expected: StoreContents } {
  const full: SessionRecord = {
    clientId: 'full',
    subscriptions: EVERY_SUBSCRIPTION_OPTION,
    expiryInterval: 0xFFFFFFFF,
    expiresAt: 1700000999000,
    will: { delay: 30, message: fullMessage('wills/full') }
  }
  const fullQueued: SessionMessageRecord = {
    clientId: 'full',
    seq: 7,
    message: fullMessage('sensors/température/東京/🌡'),
    qos: 1,
    retain: true,
    subscriptionIds: [3, 1, 268435455],
    sharedGroup: 'group',
    packetId: 65535,
    state: 'awaitingPubcomp'
  }
  const waiting = queued('full', 8, { qos: 2, message: message('plain', '', { qos: 2, retain: false }) })
  const retainedFull = fullMessage('capteurs/température/東京/🌡')
  const retainedEmpty = message('empty/payload', Buffer.alloc(0), { qos: 0 })
  const operations: StoreOperation[] = [
    { type: 'retained.put', message: retainedFull },
    { type: 'retained.put', message: retainedEmpty },
    { type: 'session.put', session: full },
    { type: 'session.message.put', record: waiting },
    { type: 'session.message.put', record: fullQueued },
    { type: 'session.release.put', clientId: 'full', packetId: 65535 },
    { type: 'session.release.put', clientId: 'full', packetId: 1 },
    { type: 'session.put', session: session('bare') }
  ]
  const expected: StoreContents = {
    retained: [retainedFull, retainedEmpty],
    sessions: [
      { ...session('bare'), messages: [], awaitingRelease: [] },
      { ...full, messages: [fullQueued, waiting], awaitingRelease: [1, 65535] }
    ]
  }
  return { operations, expected }
}

async function refused (attempt: Promise<unknown>): Promise<Error> {
  try {
    await attempt
  } catch (error) {
    return error as Error
  }
  throw new Error('the batch should be refused')
}

export function storeContract (name: string, factory: StoreFactory): void {
  const test = suite<{ store: Store }>(`store contract: ${name}`)
  test.before.each(async context => {
    context.store = await factory.create()
    await context.store.open()
  })
  test.after.each(async context => {
    await context.store.close().catch(() => undefined)
    await factory.cleanup?.()
  })

  test('a new store is empty', async ({ store }) => {
    const contents = await store.load()
    assert.equal(contents.retained, [])
    assert.equal(contents.sessions, [])
  })

  test('an empty batch resolves and changes nothing', async ({ store }) => {
    await store.apply([])
    assert.equal(await store.load(), { retained: [], sessions: [] })
  })

  test('retained messages are stored, replaced and deleted by topic', async ({ store }) => {
    await store.apply([{ type: 'retained.put', message: message('a/b', 'one') }, { type: 'retained.put', message: message('c', 'x') }])
    await store.apply([{ type: 'retained.put', message: message('a/b', 'two') }])
    await store.apply([{ type: 'retained.delete', topic: 'c' }])
    const { retained } = await store.load()
    assert.is(retained.length, 1)
    assert.is(retained[0]!.topic, 'a/b')
    assert.is(Buffer.from(retained[0]!.payload).toString(), 'two')
    assert.is(retained[0]!.qos, 1)
  })

  test('sessions are stored with their subscriptions and deleted', async ({ store }) => {
    const subscriptions = [{ filter: 'a/#', qos: 1 as const, noLocal: false, retainAsPublished: false, retainHandling: 0 as const }]
    await store.apply([{ type: 'session.put', session: { clientId: 'c1', subscriptions } }, { type: 'session.put', session: { clientId: 'c2', subscriptions: [] } }])
    await store.apply([{ type: 'session.delete', clientId: 'c2' }])
    const { sessions } = await store.load()
    assert.equal(sessions.map(s => s.clientId), ['c1'])
    assert.equal(sessions[0]!.subscriptions, subscriptions)
    assert.equal(sessions[0]!.messages, [])
    assert.equal(sessions[0]!.awaitingRelease, [])
  })

  test('operations in one batch apply in order', async ({ store }) => {
    await store.apply([
      { type: 'retained.put', message: message('t', 'first') },
      { type: 'retained.delete', topic: 't' },
      { type: 'retained.put', message: message('t', 'last') }
    ])
    const { retained } = await store.load()
    assert.is(Buffer.from(retained[0]!.payload).toString(), 'last')
  })

  test('session messages come back in seq order, compared as numbers', async ({ store }) => {
    const seqs = [2, 10, 1, 256, 16, 255, 2 ** 40, 0]
    await store.apply([{ type: 'session.put', session: session('c') }, ...seqs.map(seq => ({ type: 'session.message.put' as const, record: queued('c', seq) }))])
    const loaded = sessionOf(await store.load(), 'c')
    assert.equal(loaded.messages.map(m => m.seq), [0, 1, 2, 10, 16, 255, 256, 2 ** 40])
    assert.equal(loaded.messages.map(m => m.message.topic), [0, 1, 2, 10, 16, 255, 256, 2 ** 40].map(seq => `t/c/${seq}`))
  })

  test('a session message is replaced by client id and seq, and deleted', async ({ store }) => {
    await store.apply([{ type: 'session.put', session: session('c') }, { type: 'session.message.put', record: queued('c', 1) }, { type: 'session.message.put', record: queued('c', 2) }])
    await store.apply([{ type: 'session.message.put', record: queued('c', 1, { packetId: 9, state: 'awaitingPuback' }) }])
    let loaded = sessionOf(await store.load(), 'c')
    assert.equal(loaded.messages.map(m => [m.seq, m.packetId, m.state]), [[1, 9, 'awaitingPuback'], [2, undefined, undefined]])
    await store.apply([{ type: 'session.message.delete', clientId: 'c', seq: 1 }, { type: 'session.message.delete', clientId: 'c', seq: 99 }])
    loaded = sessionOf(await store.load(), 'c')
    assert.equal(loaded.messages.map(m => m.seq), [2])
  })

  test('a state change moves a held message on and keeps the message; one for a message not held changes nothing', async ({ store }) => {
    await store.apply([{ type: 'session.put', session: session('c') }, { type: 'session.message.put', record: queued('c', 1) }, { type: 'session.message.put', record: queued('c', 2) }])
    await store.apply([
      { type: 'session.message.state', clientId: 'c', seq: 1, packetId: 7, state: 'awaitingPubrec' },
      { type: 'session.message.state', clientId: 'c', seq: 3, packetId: 8, state: 'awaitingPuback' }
    ])
    await store.apply([{ type: 'session.message.state', clientId: 'c', seq: 1, packetId: 7, state: 'awaitingPubcomp' }])
    const loaded = sessionOf(await store.load(), 'c')
    assert.equal(loaded.messages.map(m => [m.seq, m.packetId, m.state]), [[1, 7, 'awaitingPubcomp'], [2, undefined, undefined]])
    assert.equal(loaded.messages[0]!.message.payload, queued('c', 1).message.payload)
    assert.equal(loaded.messages[0]!.message.topic, queued('c', 1).message.topic)
  })

  test('packet ids awaiting release come back ascending, once each, and are deleted', async ({ store }) => {
    const ids = [300, 5, 65535, 2, 5, 16, 1]
    await store.apply([{ type: 'session.put', session: session('c') }, ...ids.map(packetId => ({ type: 'session.release.put' as const, clientId: 'c', packetId }))])
    assert.equal(sessionOf(await store.load(), 'c').awaitingRelease, [1, 2, 5, 16, 300, 65535])
    await store.apply([{ type: 'session.release.delete', clientId: 'c', packetId: 300 }, { type: 'session.release.delete', clientId: 'c', packetId: 4 }])
    assert.equal(sessionOf(await store.load(), 'c').awaitingRelease, [1, 2, 5, 16, 65535])
  })

  test('session.put replaces the record and leaves messages and release ids alone', async ({ store }) => {
    await store.apply([
      { type: 'session.put', session: session('c', { expiryInterval: 10 }) },
      { type: 'session.message.put', record: queued('c', 1) },
      { type: 'session.release.put', clientId: 'c', packetId: 7 }
    ])
    await store.apply([{ type: 'session.put', session: session('c', { subscriptions: EVERY_SUBSCRIPTION_OPTION }) }])
    const loaded = sessionOf(await store.load(), 'c')
    assert.is(loaded.expiryInterval, undefined)
    sameData(loaded.subscriptions, EVERY_SUBSCRIPTION_OPTION)
    assert.equal(loaded.messages.map(m => m.seq), [1])
    assert.equal(loaded.awaitingRelease, [7])
  })

  test('session.delete removes the record, messages and release ids of that client only', async ({ store }) => {
    // "a" is a prefix of "ab" and "a/b": their keys must not fall into the range of "a".
    const clients = ['a', 'ab', 'a/b', 'b', '']
    await store.apply(clients.flatMap((clientId): StoreOperation[] => [
      { type: 'session.put', session: session(clientId) },
      { type: 'session.message.put', record: queued(clientId, 1) },
      { type: 'session.message.put', record: queued(clientId, 2) },
      { type: 'session.release.put', clientId, packetId: 3 }
    ]))
    await store.apply([{ type: 'session.delete', clientId: 'a' }])
    let contents = await store.load()
    assert.equal([...byClient(contents).keys()].sort(), ['', 'a/b', 'ab', 'b'])
    for (const clientId of ['ab', 'a/b', 'b', '']) {
      assert.equal(sessionOf(contents, clientId).messages.map(m => m.seq), [1, 2], `messages of ${JSON.stringify(clientId)} stay`)
      assert.equal(sessionOf(contents, clientId).awaitingRelease, [3], `release ids of ${JSON.stringify(clientId)} stay`)
    }
    // A new session under the same id starts empty: the old messages are gone, not just hidden.
    await store.apply([{ type: 'session.put', session: session('a') }])
    contents = await store.load()
    assert.equal(sessionOf(contents, 'a').messages, [])
    assert.equal(sessionOf(contents, 'a').awaitingRelease, [])
  })

  test('session.delete within a batch removes what the batch wrote before it, not after it', async ({ store }) => {
    await store.apply([{ type: 'session.put', session: session('c') }, { type: 'session.message.put', record: queued('c', 1) }])
    await store.apply([
      { type: 'session.message.put', record: queued('c', 2) },
      { type: 'session.release.put', clientId: 'c', packetId: 4 },
      { type: 'session.delete', clientId: 'c' },
      { type: 'session.put', session: session('c', { expiryInterval: 60 }) },
      { type: 'session.message.put', record: queued('c', 3) }
    ])
    const loaded = sessionOf(await store.load(), 'c')
    assert.is(loaded.expiryInterval, 60)
    assert.equal(loaded.messages.map(m => m.seq), [3])
    assert.equal(loaded.awaitingRelease, [])
  })

  test('messages and release ids of a client without a session record are not loaded', async ({ store }) => {
    await store.apply([
      { type: 'session.message.put', record: queued('ghost', 1) },
      { type: 'session.release.put', clientId: 'ghost', packetId: 1 },
      { type: 'session.put', session: session('real') }
    ])
    assert.equal((await store.load()).sessions.map(s => s.clientId), ['real'])
  })

  test('a message keeps every field byte for byte', async ({ store }) => {
    const { operations, expected } = everything()
    await store.apply(operations)
    const contents = await store.load()
    sameData(sortedContents(contents), sortedContents(expected))
    const retained = contents.retained.find(m => m.topic === 'capteurs/température/東京/🌡')!
    assert.ok(Buffer.isBuffer(retained.payload), 'payloads are Buffers')
    assert.ok(retained.payload.equals(EVERY_BYTE), 'every byte value survives')
    assert.ok(Buffer.isBuffer(retained.properties?.correlationData), 'correlation data is a Buffer')
    assert.equal(retained.properties?.userProperties, fullMessage('x').properties?.userProperties)
    assert.is(contents.retained.find(m => m.topic === 'empty/payload')!.payload.length, 0)
  })

  test('a will keeps its delay and message', async ({ store }) => {
    const will = { delay: 0, message: message('wills/w', 'bye', { qos: 0, retain: false, properties: { payloadFormatIndicator: true, messageExpiryInterval: 5 } }) }
    await store.apply([{ type: 'session.put', session: session('w', { will, expiryInterval: 0 }) }, { type: 'session.put', session: session('delayed', { will: { ...will, delay: 86400 } }) }])
    const contents = await store.load()
    sameData(sessionOf(contents, 'w').will, will)
    assert.is(sessionOf(contents, 'w').expiryInterval, 0)
    assert.is(sessionOf(contents, 'delayed').will?.delay, 86400)
  })

  test('a batch with an unknown operation changes nothing', async ({ store }) => {
    await store.apply([{ type: 'session.put', session: session('c') }, { type: 'session.message.put', record: queued('c', 1) }])
    const before = await store.load()
    const bogus = { type: 'bogus' } as unknown as StoreOperation
    const { operations } = everything()
    const error = await refused(store.apply([
      ...operations,
      { type: 'session.delete', clientId: 'c' },
      { type: 'session.message.put', record: queued('c', 5) },
      bogus
    ]))
    assert.is(error.name, 'StoreError')
    sameData(sortedContents(await store.load()), sortedContents(before))
  })

  test('using a closed store fails with a clear error', async ({ store }) => {
    await store.close()
    try {
      await store.load()
      assert.unreachable('load on a closed store must fail')
    } catch (error) {
      assert.match((error as Error).message, /open/)
    }
  })

  if (factory.reopen !== undefined) {
    const reopen = factory.reopen
    test('what was applied is there after reopening', async context => {
      await context.store.apply([{ type: 'retained.put', message: message('kept', 'yes') }])
      await context.store.close()
      context.store = await reopen(context.store)
      await context.store.open()
      assert.equal((await context.store.load()).retained.map(m => m.topic), ['kept'])
    })

    test('everything survives closing and reopening, deletes included', async context => {
      const { operations, expected } = everything()
      await context.store.apply(operations)
      await context.store.apply([
        { type: 'session.put', session: session('gone') },
        { type: 'session.message.put', record: queued('gone', 1) },
        { type: 'retained.put', message: message('gone', 'x') }
      ])
      await context.store.apply([
        { type: 'session.delete', clientId: 'gone' },
        { type: 'retained.delete', topic: 'gone' },
        { type: 'session.message.put', record: queued('full', 9) },
        { type: 'session.message.delete', clientId: 'full', seq: 9 },
        { type: 'session.release.put', clientId: 'full', packetId: 2 },
        { type: 'session.release.delete', clientId: 'full', packetId: 2 }
      ])
      const before = await context.store.load()
      sameData(sortedContents(before), sortedContents(expected))
      await context.store.close()
      context.store = await reopen(context.store)
      await context.store.open()
      sameData(sortedContents(await context.store.load()), sortedContents(expected))
    })
  }

  test.run()
}
