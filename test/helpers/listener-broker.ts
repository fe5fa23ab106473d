import type { Authenticator, AuthenticationRequest } from '../../actors/connection/authenticator.js'
import type { Broker } from '../../runtime/broker.js'
import type { BrokerConfig } from '../../runtime/config/options.js'
import type { ListenerType } from '../../runtime/listeners/listener.js'
import { startBroker, type LogLine } from './test-broker.js'

/** An in-process broker with listeners of several kinds, on free ports of 127.0.0.1. */
export interface ListenerBroker {
  readonly broker: Broker
  readonly logs: LogLine[]
  /** Port of the first listener of `type`. */
  port (type: ListenerType): number
  close (): Promise<void>
}

const started = new Set<ListenerBroker>()

/**
 * Starts a real broker whose configuration is `overrides` over the defaults, with 127.0.0.1 and
 * port 0 for the TCP listener, and an optional authenticator; its log is kept in memory.
 */
export async function startListenerBroker (overrides: Partial<BrokerConfig>, authenticator?: Authenticator): Promise<ListenerBroker> {
  const { broker, logs } = await startBroker(overrides, { authenticator })
  const handle: ListenerBroker = {
    broker,
    logs,
    port: type => {
      const bound = broker.listenerAddresses.find(listener => listener.type === type)
      if (bound === undefined) throw new Error(`the broker has no ${type} listener`)
      return bound.port
    },
    close: async () => {
      started.delete(handle)
      await broker.close()
    }
  }
  started.add(handle)
  return handle
}

/** Closes every broker startListenerBroker started and has not been closed: for after-hooks. */
export async function closeListenerBrokers (): Promise<void> {
  await Promise.all([...started].map(async broker => await broker.close()))
}

/** A real authenticator that lets everyone in and remembers what each client presented. */
export class RecordingAuthenticator implements Authenticator {
  readonly requests: AuthenticationRequest[] = []

  async authenticate (request: AuthenticationRequest): Promise<{ allowed: true }> {
    this.requests.push(request)
    return { allowed: true }
  }

  usernameOf (clientId: string): string | undefined {
    return this.requests.find(request => request.clientId === clientId)?.username
  }
}
