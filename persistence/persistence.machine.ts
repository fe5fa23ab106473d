import { assign, fromCallback, fromPromise, setup, type ActorRefFrom } from 'xstate'
import type { Store, StoreOperation } from './store.js'

/** Operations to write, and who to tell once they are durable (or failed). */
export interface WriteRequest {
  readonly operations: readonly StoreOperation[]
  readonly settled?: (error?: Error) => void
}

export type PersistenceEvent =
  | { type: 'store.write', request: WriteRequest }
  | { type: 'store.tick' }

export interface PersistenceContext {
  readonly store: Store
  /** Requests collected since the last batch started. */
  pending: WriteRequest[]
  /** Requests in the batch being written now. */
  writing: WriteRequest[]
  batches: number
  failures: number
}

/**
 * The persistence actor: it collects every write of one event-loop tick and hands them to the
 * store as one atomic batch (group commit), so durability costs one store write per tick,
 * not one per message. A request's `settled` callback runs once its batch is written.
 *
 *   idle --write--> collecting --tick--> writing --done--> (more pending ? writing : idle)
 */
export const persistenceMachine = setup({
  types: {
    context: {} as PersistenceContext,
    events: {} as PersistenceEvent,
    input: {} as { store: Store }
  },
  actors: {
    nextTick: fromCallback(({ sendBack }) => {
      const timer = setImmediate(() => sendBack({ type: 'store.tick' }))
      return () => clearImmediate(timer)
    }),
    applyBatch: fromPromise<void, { store: Store, requests: readonly WriteRequest[] }>(async ({ input }) => {
      await input.store.apply(input.requests.flatMap(request => request.operations))
    })
  },
  actions: {
    collect: assign({
      pending: ({ context, event }) => event.type === 'store.write' ? [...context.pending, event.request] : context.pending
    }),
    startBatch: assign({
      writing: ({ context }) => context.pending,
      pending: () => []
    }),
    settleBatch: ({ context }, params: { error?: Error }) => {
      for (const request of context.writing) request.settled?.(params.error)
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
      on: { 'store.write': { target: 'collecting', actions: 'collect' } }
    },
    collecting: {
      invoke: { src: 'nextTick' },
      on: {
        'store.write': { actions: 'collect' },
        'store.tick': { target: 'writing' }
      }
    },
    writing: {
      entry: 'startBatch',
      invoke: {
        src: 'applyBatch',
        input: ({ context }) => ({ store: context.store, requests: context.writing }),
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
      on: { 'store.write': { actions: 'collect' } }
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

/** Writes `operations` through the persistence actor; resolves once they are durable. */
export function persist (actor: PersistenceActor, operations: readonly StoreOperation[]): Promise<void> {
  return new Promise((resolve, reject) => {
    actor.send({ type: 'store.write', request: { operations, settled: error => error === undefined ? resolve() : reject(error) } })
  })
}
