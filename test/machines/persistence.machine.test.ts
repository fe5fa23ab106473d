import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createActor, waitFor } from 'xstate'
import { MemoryStore } from '../../persistence/memory-store.js'
import { GroupCommit } from '../../persistence/group-commit.js'
import { persistenceMachine } from '../../persistence/persistence.machine.js'
import type { StoreOperation } from '../../persistence/store.js'

/** A real memory store that also remembers each batch it was given. */
class BatchCountingStore extends MemoryStore {
  readonly batches: number[] = []
  failNext = false
  /** Holds the next batch until released, so that later writes pile up behind it. */
  hold: Promise<void> | undefined
  override async apply (operations: readonly StoreOperation[]): Promise<void> {
    this.batches.push(operations.length)
    const hold = this.hold
    this.hold = undefined
    if (hold !== undefined) await hold
    if (this.failNext) {
      this.failNext = false
      throw new Error('disk full')
    }
    await super.apply(operations)
  }
}

const put = (topic: string): StoreOperation => ({ type: 'retained.put', message: { topic, payload: Buffer.from('x'), qos: 0, retain: true, receivedAt: 0 } })

const test = suite('persistence machine')

test('a tick without writes costs the store nothing, and its waiters still run in order', async () => {
  const store = new BatchCountingStore()
  await store.open()
  const actor = createActor(persistenceMachine, { input: { store } })
  actor.start()
  const commit = new GroupCommit(actor)
  const order: number[] = []
  commit.afterWrites(() => order.push(1))
  commit.afterWrites(() => order.push(2))
  await commit.flushed()
  assert.equal(order, [1, 2])
  assert.equal(store.batches, [])
})

test('writes from one tick go to the store as one batch (group commit)', async () => {
  const store = new BatchCountingStore()
  await store.open()
  const actor = createActor(persistenceMachine, { input: { store } })
  actor.start()
  const commit = new GroupCommit(actor)
  for (let i = 0; i < 50; i++) commit.write(put(`t/${i}`))
  await commit.flushed()
  assert.equal(store.batches, [50])
  assert.is((await store.load()).retained.length, 50)
  await waitFor(actor, snapshot => snapshot.value === 'idle')
})

test('writes arriving during a batch form the next batch', async () => {
  const store = new BatchCountingStore()
  await store.open()
  const actor = createActor(persistenceMachine, { input: { store } })
  actor.start()
  const commit = new GroupCommit(actor)
  let release = (): void => {}
  store.hold = new Promise(resolve => { release = resolve })
  commit.write(put('a'))
  const first = commit.flushed()
  await waitFor(actor, snapshot => snapshot.value === 'writing')
  commit.write(put('b'))
  const second = commit.flushed()
  // Another tick, while the first batch is still held: both wait and go as one batch.
  await new Promise(resolve => setImmediate(resolve))
  commit.write(put('c'))
  const third = commit.flushed()
  await new Promise(resolve => setImmediate(resolve))
  release()
  await Promise.all([first, second, third])
  assert.equal(store.batches, [1, 2])
})

test('a failed batch rejects its writers and the actor keeps serving', async () => {
  const store = new BatchCountingStore()
  await store.open()
  const actor = createActor(persistenceMachine, { input: { store } })
  actor.start()
  const commit = new GroupCommit(actor)
  store.failNext = true
  let error: Error | undefined
  commit.write(put('lost'))
  await commit.flushed().catch((e: Error) => { error = e })
  assert.is(error?.message, 'disk full')
  commit.write(put('kept'))
  await commit.flushed()
  assert.equal((await store.load()).retained.map(m => m.topic), ['kept'])
  assert.is(actor.getSnapshot().context.failures, 1)
})

test.run()
