import type { Packet } from 'mqtt-packet'
import { assign, enqueueActions, fromPromise, setup, type ActorRefFrom } from 'xstate'
import type { AuthenticationVerdict } from './authenticator.js'
import { closeReason, type CloseReason } from './close-reason.js'
import type { CloseEvent, ConnectionDriver, ConnectionEvent } from './connection.events.js'
import type { AcceptedConnect } from './handlers/connect.js'
import { ReasonCode } from './protocol/reason-codes.js'

export interface ConnectionContext {
  readonly driver: ConnectionDriver
  /** The accepted CONNECT, once there is one. */
  connect: AcceptedConnect | undefined
  /** Packets that arrived behind CONNECT, held until the client is authenticated. */
  pending: Packet[]
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
 * The machine owns control flow only. PUBLISH and its acknowledgements run in plain handlers
 * that `dispatchPackets` calls, one machine event per socket chunk.
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
    )
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
    dispatchPending: ({ context, self }) => {
      if (context.pending.length === 0) return
      const reason = context.driver.dispatch(context.pending)
      if (reason !== undefined) self.send(closeEventFor(reason))
    },
    dispatchPackets: ({ context, event, self }) => {
      if (event.type !== 'packets.received') return
      const reason = context.driver.dispatch(event.packets)
      if (reason !== undefined) self.send(closeEventFor(reason))
    },
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
  context: ({ input }) => ({ driver: input.driver, connect: undefined, pending: [], closeReason: undefined }),
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
      on: {
        'packets.received': { actions: 'dispatchPackets' },
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

function closeEventFor (reason: CloseReason): CloseEvent {
  return reason.kind === 'client-disconnect' || reason.kind === 'client-disconnect-with-will'
    ? { type: 'client.disconnected', reason }
    : { type: 'protocol.violated', reason }
}
