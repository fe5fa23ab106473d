import type { Packet } from 'mqtt-packet'
import { assign, enqueueActions, fromPromise, setup, type ActorRefFrom } from 'xstate'
import type { AuthenticationVerdict } from './authenticator.js'
import { closeReason, type CloseReason } from './close-reason.js'
import type { HeldPackets } from './awaiting-permission.js'
import type { CloseEvent, ConnectionDriver, ConnectionEvent } from './connection.events.js'
import type { AcceptedConnect } from './handlers/connect.js'
import { ReasonCode } from './protocol/reason-codes.js'

export interface ConnectionContext {
  readonly driver: ConnectionDriver
  /** The accepted CONNECT, once there is one. */
  connect: AcceptedConnect | undefined
  /**
   * Packets held back: those that arrived behind CONNECT until the client is authenticated,
   * and later those behind a packet that waits for a permission.
   */
  pending: Packet[]
  /** What the held packets wait for, while awaiting a permission. */
  awaiting: Promise<unknown> | undefined
  closeReason: CloseReason | undefined
}

/** Every way to end, recorded the same way from any state that can end. */
const closeTransition = { target: '#connection.closed', actions: 'recordCloseReason' } as const
const closeOnAnyEnd = {
  'socket.closed': closeTransition,
  'protocol.violated': closeTransition,
  'broker.shutdown': closeTransition,
  'admin.disconnect': closeTransition,
  'store.failed': closeTransition
} as const

/**
 * One client connection's protocol lifecycle:
 *
 *   awaitingConnect --CONNECT ok--> authenticating --allowed--> connected --any end--> closed
 *         |  (timeout, refusal, not CONNECT)  | (refused)                                ^
 *         +-----------------------------------+------------------------------------------+
 *
 *   connected:  serving --packets.held--> awaitingPermission --decided--> serving
 *
 * The machine owns control flow only. PUBLISH and its acknowledgements run in plain handlers
 * that `dispatchPackets` calls, one machine event per socket chunk. A packet whose permission
 * an auth provider decides later is held, with everything behind it, so order is kept.
 */
export const connectionMachine = setup({
  types: {
    context: {} as ConnectionContext,
    events: {} as ConnectionEvent,
    input: {} as { driver: ConnectionDriver }
  },
  actors: {
    authenticate: fromPromise<AuthenticationVerdict, { driver: ConnectionDriver, connect: AcceptedConnect }>(
      async ({ input }) => await input.driver.authenticate(input.connect)
    ),
    awaitPermission: fromPromise<unknown, Promise<unknown> | undefined>(async ({ input }) => await input)
  },
  guards: {
    isAllowed: (_, verdict: AuthenticationVerdict) => verdict.allowed,
    needsAuthentication: ({ context, event }) => event.type === 'connect.accepted' && context.driver.needsAuthentication(event.verdict)
  },
  actions: {
    /** The first packet must be a CONNECT [MQTT-3.1.0-1]; its verdict decides where to go. */
    inspectConnect: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'packets.received') return
      const [first, ...rest] = event.packets
      if (first === undefined) return
      if (first.cmd !== 'connect') {
        enqueue.raise({ type: 'protocol.violated', reason: closeReason('protocol-error', `first packet was ${first.cmd.toUpperCase()}, not CONNECT [MQTT-3.1.0-1]`) })
        return
      }
      const verdict = context.driver.inspectConnect(first)
      enqueue.raise(verdict.accepted ? { type: 'connect.accepted', verdict, rest } : { type: 'connect.refused', verdict })
    }),
    holdConnect: assign(({ event }) => event.type === 'connect.accepted' ? { connect: event.verdict, pending: event.rest } : {}),
    holdBehindPermission: assign(({ event }) => event.type === 'packets.held' ? { pending: event.held, awaiting: event.until } : {}),
    holdArrivals: assign(({ context, event }) => event.type === 'packets.received' ? { pending: [...context.pending, ...event.packets] } : {}),
    /** AUTH packets feed the running exchange; anything else waits for the outcome. */
    holdPackets: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'packets.received') return
      const held: Packet[] = []
      for (const packet of event.packets) {
        if (packet.cmd === 'auth') enqueue(() => context.driver.receiveAuth(packet))
        else held.push(packet)
      }
      if (held.length > 0) enqueue.assign({ pending: [...context.pending, ...held] })
    }),
    refuseConnect: ({ context, event }) => {
      if (event.type === 'connect.refused') context.driver.refuse(event.verdict)
    },
    refuseAuthentication: ({ context }, verdict: AuthenticationVerdict) => {
      if (verdict.allowed || context.connect === undefined) return
      context.driver.refuse({ protocol: context.connect.protocol, connackReason: verdict.reasonCode })
    },
    recordCloseReason: assign({
      closeReason: ({ context, event }) => context.closeReason ?? closeReasonOf(event)
    }),
    recordRefusal: assign({
      closeReason: ({ context, event }) => context.closeReason ??
        (event.type === 'connect.refused' ? event.verdict.close : closeReason('connect-refused', 'authentication refused'))
    }),
    recordAuthenticationFailure: assign({
      closeReason: () => closeReason('connect-refused', 'the authentication provider failed')
    }),
    openSession: ({ context }) => {
      if (context.connect !== undefined) context.driver.openSession(context.connect)
    },
    dispatchPending: enqueueActions(({ context, enqueue }) => {
      const packets = context.pending
      if (packets.length === 0) return
      enqueue.assign({ pending: [], awaiting: undefined })
      enqueue(({ self }) => report(context.driver.dispatch(packets), self))
    }),
    dispatchPackets: ({ context, event, self }) => {
      if (event.type === 'packets.received') report(context.driver.dispatch(event.packets), self)
    },
    pauseReading: ({ context }) => context.driver.pauseReading(),
    resumeReading: ({ context }) => context.driver.resumeReading(),
    startConnectTimer: ({ context }) => context.driver.startConnectTimer(),
    stopConnectTimer: ({ context }) => context.driver.stopConnectTimer(),
    startKeepAlive: ({ context }) => context.driver.startKeepAlive(),
    stopKeepAlive: ({ context }) => context.driver.stopKeepAlive(),
    finish: ({ context }) => {
      context.driver.finish(context.closeReason ?? closeReason('socket-closed', 'connection closed'))
    }
  }
}).createMachine({
  id: 'connection',
  context: ({ input }) => ({ driver: input.driver, connect: undefined, pending: [], awaiting: undefined, closeReason: undefined }),
  initial: 'awaitingConnect',
  states: {
    awaitingConnect: {
      // Timers are the driver's (plain timeouts), not xstate delayed events: cheaper per connection.
      entry: 'startConnectTimer',
      exit: 'stopConnectTimer',
      on: {
        'connect.timeout': closeTransition,
        'packets.received': { actions: 'inspectConnect' },
        // Most brokers let everyone in: then no authentication actor is started at all.
        'connect.accepted': [
          { guard: 'needsAuthentication', target: 'authenticating', actions: 'holdConnect' },
          { target: 'connected', actions: 'holdConnect' }
        ],
        'connect.refused': { target: 'closed', actions: ['refuseConnect', 'recordRefusal'] },
        ...closeOnAnyEnd
      }
    },
    authenticating: {
      invoke: {
        src: 'authenticate',
        input: ({ context }) => ({ driver: context.driver, connect: context.connect! }),
        onDone: [
          { guard: { type: 'isAllowed', params: ({ event }) => event.output }, target: 'connected' },
          {
            target: 'closed',
            actions: [{ type: 'refuseAuthentication', params: ({ event }) => event.output }, 'recordRefusal']
          }
        ],
        onError: {
          target: 'closed',
          actions: [
            { type: 'refuseAuthentication', params: { allowed: false, reasonCode: ReasonCode.ServerUnavailable } },
            'recordAuthenticationFailure'
          ]
        }
      },
      on: {
        'packets.received': { actions: 'holdPackets' },
        ...closeOnAnyEnd
      }
    },
    connected: {
      // The keep-alive is a plain timer of the driver's, not an invoked actor: it costs a
      // connection nothing but the timer.
      entry: ['openSession', 'startKeepAlive', 'dispatchPending'],
      exit: 'stopKeepAlive',
      initial: 'serving',
      states: {
        serving: {
          on: {
            'packets.received': { actions: 'dispatchPackets' },
            'packets.held': { target: 'awaitingPermission', actions: 'holdBehindPermission' }
          }
        },
        awaitingPermission: {
          entry: 'pauseReading',
          exit: 'resumeReading',
          invoke: {
            src: 'awaitPermission',
            input: ({ context }) => context.awaiting,
            onDone: { target: 'serving', actions: 'dispatchPending' },
            onError: closeTransition
          },
          on: {
            'packets.received': { actions: 'holdArrivals' }
          }
        }
      },
      on: {
        'keepalive.expired': closeTransition,
        'client.disconnected': closeTransition,
        'takeover.requested': closeTransition,
        ...closeOnAnyEnd
      }
    },
    closed: {
      type: 'final',
      entry: 'finish'
    }
  }
})

export type ConnectionActor = ActorRefFrom<typeof connectionMachine>

function closeReasonOf (event: ConnectionEvent): CloseReason {
  return 'reason' in event ? event.reason : closeReason('socket-closed', `closed on ${event.type}`)
}

/** Tells the machine how dispatching ended: held behind a permission, or closing. */
function report (outcome: CloseReason | HeldPackets | undefined, self: { send: (event: ConnectionEvent) => void }): void {
  if (outcome === undefined) return
  self.send('held' in outcome ? { type: 'packets.held', held: outcome.held, until: outcome.until } : closeEventFor(outcome))
}

function closeEventFor (reason: CloseReason): CloseEvent {
  return reason.kind === 'client-disconnect' || reason.kind === 'client-disconnect-with-will'
    ? { type: 'client.disconnected', reason }
    : { type: 'protocol.violated', reason }
}
