import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createActor, waitFor } from 'xstate'
import { MemoryStore } from '../../persistence/memory-store.js'
import { persist, persistenceMachine } from '../../persistence/persistence.machine.js'
import type { StoreOperation } from '../../persistence/store.js'

/** A real memory store that also remembers each batch it was given. */
class BatchCountingStore extends MemoryStore {
  readonly batches: number[] = []
  failNext = false
  override async apply (operations: readonly StoreOperation[]): Promise<void> {
    this.batches.push(operations.length)
    if (this.failNext) {
      this.failNext = false
      throw new Error('disk full')
    }
    await super.apply(operations)
  }
}

const put = (topic: string): StoreOperation => ({ type: 'retained.put', message: { topic, payload: Buffer.from('x'), qos: 0, retain: true, receivedAt: 0 } })

const test = suite('persistence machine')

test('writes from one tick go to the store as one batch (group commit)', async () => {
  const store = new BatchCountingStore()
  await store.open()
  const actor = createActor(persistenceMachine, { input: { store } })
  actor.start()
  await Promise.all(Array.from({ length: 50 }, (_, i) => persist(actor, [put(`t/${i}`)])))
  assert.equal(store.batches, [50])
  assert.is((await store.load()).retained.length, 50)
  await waitFor(actor, snapshot => snapshot.value === 'idle')
})

test('writes arriving during a batch form the next batch', async () => {
  const store = new BatchCountingStore()
  await store.open()
  const actor = createActor(persistenceMachine, { input: { store } })
  actor.start()
  const first = persist(actor, [put('a')])
  await waitFor(actor, snapshot => snapshot.value === 'writing')
  const second = Promise.all([persist(actor, [put('b')]), persist(actor, [put('c')])])
  await Promise.all([first, second])
  assert.equal(store.batches, [1, 2])
})

test('a failed batch rejects its writers and the actor keeps serving', async () => {
  const store = new BatchCountingStore()
  await store.open()
  const actor = createActor(persistenceMachine, { input: { store } })
  actor.start()
  store.failNext = true
  let error: Error | undefined
  await persist(actor, [put('lost')]).catch((e: Error) => { error = e })
  assert.is(error?.message, 'disk full')
  await persist(actor, [put('kept')])
  assert.equal((await store.load()).retained.map(m => m.topic), ['kept'])
  assert.is(actor.getSnapshot().context.failures, 1)
})

test.run()
