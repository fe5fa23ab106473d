import { Session, type SessionLimits, type SessionObserver, type SessionOwner } from './session.js'

/** A connection that can hold a session, and be told to give it up. */
export interface SessionTenant extends SessionOwner {
  /** Another connection claimed this client id: stop and close [MQTT-3.1.4-2]. */
  takeOver (): void
}

export interface Claim {
  readonly session: Session
  /** The CONNACK session present flag [MQTT-3.2.2-1][MQTT-3.2.2-2][MQTT-3.2.2-3]. */
  readonly sessionPresent: boolean
}

export interface SessionRegistryOptions {
  readonly limits: SessionLimits
  readonly observer: SessionObserver
  /** Called when a session ends for good, so the router drops its subscriptions. */
  readonly onDiscard: (session: Session) => void
}

/**
 * Every session by client id, and which connection holds it. Claiming a client id that a
 * live connection holds takes the session over: the old connection is detached first, then
 * told to close, so its closing never discards what the new connection is about to resume.
 */
export class SessionRegistry {
  private readonly sessions = new Map<string, Session>()
  private readonly tenants = new Map<Session, SessionTenant>()

  constructor (private readonly options: SessionRegistryOptions) {}

  get size (): number {
    return this.sessions.size
  }

  get (clientId: string): Session | undefined {
    return this.sessions.get(clientId)
  }

  values (): IterableIterator<Session> {
    return this.sessions.values()
  }

  /**
   * Gives `tenant` the session for `clientId`: the existing one when the client asked to
   * resume and there is a persistent one, otherwise a new one.
   */
  claim (clientId: string, cleanStart: boolean, persistent: boolean, tenant: SessionTenant): Claim {
    let session = this.sessions.get(clientId)
    if (session !== undefined) {
      const previous = this.tenants.get(session)
      if (previous !== undefined) {
        this.tenants.delete(session)
        session.detach(previous)
        previous.takeOver()
      }
      if (cleanStart || !session.persistent) {
        this.discard(session)
        session = undefined
      }
    }
    const sessionPresent = session !== undefined
    session ??= new Session(clientId, persistent, this.options.limits, this.options.observer)
    session.persistent = persistent
    this.sessions.set(clientId, session)
    this.tenants.set(session, tenant)
    session.attach(tenant)
    return { session, sessionPresent }
  }

  /** Brings back a persistent session read from the store at start; it waits offline for its client. */
  restore (clientId: string): Session {
    const session = new Session(clientId, true, this.options.limits, this.options.observer)
    this.sessions.set(clientId, session)
    return session
  }

  /** The connection `tenant` ended: a clean session ends with it, a persistent one waits offline. */
  release (session: Session, tenant: SessionTenant): void {
    if (this.tenants.get(session) !== tenant) return
    this.tenants.delete(session)
    session.detach(tenant)
    if (!session.persistent) this.discard(session)
  }

  /** Ends `session` for good: its subscriptions and queued messages are gone. */
  discard (session: Session): void {
    if (this.sessions.get(session.clientId) === session) this.sessions.delete(session.clientId)
    const tenant = this.tenants.get(session)
    if (tenant !== undefined) {
      this.tenants.delete(session)
      session.detach(tenant)
    }
    this.options.onDiscard(session)
    session.reset()
  }
}
