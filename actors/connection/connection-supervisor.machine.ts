import type { Logger } from 'pino'
import { setup, type ActorRefFrom, type AnyEventObject } from 'xstate'

/**
 * The parent of every connection actor. Connections join its actor system rather than each
 * building one of their own, which halves what an idle connection's actor costs (about 2 KiB
 * instead of 3.7 KiB) and gives one place to inspect them all. A connection whose machine
 * throws is reported here and logged; the broker goes on.
 */
export const connectionSupervisorMachine = setup({
  types: {
    context: {} as { readonly log: Logger },
    events: {} as AnyEventObject,
    input: {} as { log: Logger }
  },
  actions: {
    logFailure: ({ context, event }) => {
      const error = (event as { error?: unknown }).error
      context.log.error({ err: error }, 'a connection actor failed')
    }
  }
}).createMachine({
  id: 'connections',
  context: ({ input }) => ({ log: input.log }),
  initial: 'supervising',
  states: {
    supervising: {
      on: { 'xstate.error.actor.*': { actions: 'logFailure' } }
    }
  }
})

export type ConnectionSupervisor = ActorRefFrom<typeof connectionSupervisorMachine>
