import { assign, fromPromise, setup, type ActorRefFrom } from 'xstate'
import { coalesceOperations } from './coalesce-operations.js'
import type { Store, StoreOperation } from './store.js'

/** One tick's writes, and who to tell once they are applied (or failed). */
export interface WriteBatch {
  readonly operations: readonly StoreOperation[]
  readonly settled: ReadonlyArray<(error?: Error) => void>
}

export type PersistenceEvent = { type: 'store.batch', batch: WriteBatch }

export interface PersistenceContext {
  readonly store: Store
  /** Batches that arrived while the store was busy; they are written together next. */
  pending: WriteBatch[]
  /** Batches being written now. */
  writing: WriteBatch[]
  batches: number
  failures: number
}

/**
 * The persistence actor: it owns the store and writes one batch at a time. A GroupCommit
 * (group-commit.ts) collects every write of one event-loop tick into one `store.batch` event,
 * so the machine sees one event per tick, never one per message; batches that arrive while a
 * write is under way are merged into the next one. Each writer's `settled` callback runs once
 * its batch is applied.
 *
 *   idle --batch--> writing --done--> (more pending ? writing : idle)
 */
export const persistenceMachine = setup({
  types: {
    context: {} as PersistenceContext,
    events: {} as PersistenceEvent,
    input: {} as { store: Store }
  },
  actors: {
    applyBatch: fromPromise<void, { store: Store, batches: readonly WriteBatch[] }>(async ({ input }) => {
      const merged = input.batches.length === 1 ? input.batches[0]!.operations : input.batches.flatMap(batch => batch.operations)
      const operations = coalesceOperations(merged)
      if (operations.length > 0) await input.store.apply(operations)
    })
  },
  actions: {
    collect: assign({
      pending: ({ context, event }) => [...context.pending, event.batch]
    }),
    startBatch: assign({
      writing: ({ context }) => context.pending,
      pending: () => []
    }),
    settleBatch: ({ context }, params: { error?: Error }) => {
      for (const batch of context.writing) for (const settled of batch.settled) settled(params.error)
    },
    countBatch: assign({
      batches: ({ context }) => context.batches + 1,
      writing: () => []
    }),
    countFailure: assign({
      failures: ({ context }) => context.failures + 1
    })
  },
  guards: {
    hasPending: ({ context }) => context.pending.length > 0
  }
}).createMachine({
  id: 'persistence',
  context: ({ input }) => ({ store: input.store, pending: [], writing: [], batches: 0, failures: 0 }),
  initial: 'idle',
  states: {
    idle: {
      on: { 'store.batch': { target: 'writing', actions: 'collect' } }
    },
    writing: {
      entry: 'startBatch',
      invoke: {
        src: 'applyBatch',
        input: ({ context }) => ({ store: context.store, batches: context.writing }),
        onDone: {
          target: 'settled',
          actions: [{ type: 'settleBatch', params: {} }, 'countBatch']
        },
        onError: {
          target: 'settled',
          actions: [
            { type: 'settleBatch', params: ({ event }) => ({ error: event.error instanceof Error ? event.error : new Error(String(event.error)) }) },
            'countBatch',
            'countFailure'
          ]
        }
      },
      on: { 'store.batch': { actions: 'collect' } }
    },
    settled: {
      always: [
        { guard: 'hasPending', target: 'writing' },
        { target: 'idle' }
      ]
    }
  }
})

export type PersistenceActor = ActorRefFrom<typeof persistenceMachine>
