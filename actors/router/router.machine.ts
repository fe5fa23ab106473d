import { setup, type ActorRefFrom } from 'xstate'
import type { Session } from '../session/session.js'
import type { Message } from './message.js'
import { RetainedStore } from './retained-store.js'
import type { Subscription } from './subscription.js'
import { SubscriptionIndex } from './subscription-index.js'

export type RouterEvent =
  | { type: 'subscription.add', session: Session, subscription: Subscription }
  | { type: 'subscription.remove', clientId: string, filter: string }
  | { type: 'session.discarded', session: Session }
  | { type: 'retained.set', message: Message }
  /** Retained messages read back from the store at start: set without being written again. */
  | { type: 'retained.restore', messages: readonly Message[] }
  | { type: 'router.stop' }

/** Called for each retained change, so the persistence actor can store it. */
export type RetainedListener = (topic: string, message: Message | undefined) => void

export interface RouterContext {
  readonly index: SubscriptionIndex<Session>
  readonly retained: RetainedStore
  readonly onRetainedChange: RetainedListener
}

/**
 * The router actor: the one owner of the subscription index and the retained messages. Every
 * change goes through its mailbox; reads (matching a topic, finding retained messages for a
 * filter) are synchronous, so the publish path never waits on a message round trip.
 */
export const routerMachine = setup({
  types: {
    context: {} as RouterContext,
    events: {} as RouterEvent,
    input: {} as { onRetainedChange: RetainedListener }
  },
  actions: {
    addSubscription: ({ context, event }) => {
      if (event.type !== 'subscription.add') return
      context.index.add(event.session, event.subscription)
    },
    removeSubscription: ({ context, event }) => {
      if (event.type !== 'subscription.remove') return
      context.index.remove(event.clientId, event.filter)
    },
    removeSession: ({ context, event }) => {
      if (event.type !== 'session.discarded') return
      for (const filter of event.session.subscriptions.keys()) context.index.remove(event.session.clientId, filter)
    },
    setRetained: ({ context, event }) => {
      if (event.type !== 'retained.set') return
      const { message } = event
      if (message.payload.length === 0) {
        if (context.retained.delete(message.topic)) context.onRetainedChange(message.topic, undefined)
        return
      }
      context.retained.set(message)
      context.onRetainedChange(message.topic, message)
    },
    restoreRetained: ({ context, event }) => {
      if (event.type !== 'retained.restore') return
      for (const message of event.messages) context.retained.set(message)
    }
  }
}).createMachine({
  id: 'router',
  context: ({ input }) => ({
    index: new SubscriptionIndex<Session>(),
    retained: new RetainedStore(),
    onRetainedChange: input.onRetainedChange
  }),
  initial: 'serving',
  states: {
    serving: {
      on: {
        'subscription.add': { actions: 'addSubscription' },
        'subscription.remove': { actions: 'removeSubscription' },
        'session.discarded': { actions: 'removeSession' },
        'retained.set': { actions: 'setRetained' },
        'retained.restore': { actions: 'restoreRetained' },
        'router.stop': { target: 'stopped' }
      }
    },
    stopped: { type: 'final' }
  }
})

export type RouterActor = ActorRefFrom<typeof routerMachine>
