import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { Store } from '../../persistence/store.js'

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

const message = (topic: string, payload: string) => ({ topic, payload: Buffer.from(payload), qos: 1 as const, retain: true, receivedAt: 1700000000000 })

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

  test('a batch with an unknown operation changes nothing', async ({ store }) => {
    const bogus = { type: 'bogus' } as unknown as Parameters<Store['apply']>[0][number]
    let failed = false
    try {
      await store.apply([{ type: 'retained.put', message: message('x', 'y') }, bogus])
    } catch {
      failed = true
    }
    assert.ok(failed, 'the batch is refused')
    assert.equal((await store.load()).retained, [])
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
  }

  test.run()
}
