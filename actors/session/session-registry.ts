import type { Message } from '../router/message.js'
import type { SessionJournal } from './session-journal.js'
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
  /** Publishes a will whose delay ran out (or whose session ended first). */
  readonly publishWill: (will: Message) => void
  /** Records the messages of persistent sessions; absent when nothing outlives the process. */
  readonly journal?: SessionJournal
  /** A persistent session's record changed (client left, will sent): the broker saves it. */
  readonly saved?: (session: Session) => void
}

/** What the store kept of a session's timing, to pick up where it stopped. */
export interface RestoredTiming {
  /** Epoch ms at which the session ends; undefined when its client was online (counted from now). */
  readonly expiresAt?: number
  /** The will that was still due, sent after what is left of its delay. */
  readonly will?: { readonly message: Message, readonly delay: number }
}

/** Session Expiry Interval meaning "never" [MQTT-3.1.2-11 (v5)]. */
const NEVER = 0xFFFFFFFF
/** setTimeout's longest delay; longer expiries are re-armed in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1
/** How often queues are swept for expired messages, so none lingers (in memory or on disk) in a session nobody reads. */
const EXPIRED_MESSAGE_SWEEP_MS = 30_000

/**
 * Every session by client id, and which connection holds it. Claiming a client id that a
 * live connection holds takes the session over: the old connection is detached first, then
 * told to close, so its closing never discards what the new connection is about to resume.
 * A session whose client left lives for its expiry interval; a v5 will with a delay waits
 * for its delay or the session's end, whichever comes first, unless the client returns.
 */
export class SessionRegistry {
  private readonly sessions = new Map<string, Session>()
  private readonly tenants = new Map<Session, SessionTenant>()
  private readonly pendingWills = new Map<Session, { readonly will: Message, readonly timer: NodeJS.Timeout }>()

  private readonly sweep: NodeJS.Timeout

  constructor (private readonly options: SessionRegistryOptions) {
    this.sweep = setInterval(() => {
      for (const session of this.sessions.values()) session.purgeExpired()
    }, EXPIRED_MESSAGE_SWEEP_MS)
    this.sweep.unref()
  }

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
  claim (clientId: string, cleanStart: boolean, expiryInterval: number, tenant: SessionTenant): Claim {
    let session = this.sessions.get(clientId)
    if (session !== undefined) {
      // The client is back in time: its delayed will is not sent [MQTT-3.1.3-9 (v5)].
      this.cancelWill(session)
      clearTimeout(session.expiryTimer)
      session.expiryTimer = undefined
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
    session ??= new Session(clientId, expiryInterval, this.options.limits, this.options.observer, this.options.journal)
    session.expiryInterval = expiryInterval
    session.expiresAt = undefined
    this.sessions.set(clientId, session)
    this.tenants.set(session, tenant)
    session.attach(tenant)
    return { session, sessionPresent }
  }

  /**
   * Brings back a persistent session read from the store at start; it waits offline for its
   * client until its saved deadline (or its interval from now, if its client was online when
   * the broker stopped). A will still due is sent after what is left of its delay, counted
   * from when the client left (from now if that is unknown).
   */
  restore (clientId: string, expiryInterval = NEVER, timing: RestoredTiming = {}): Session {
    const session = new Session(clientId, expiryInterval, this.options.limits, this.options.observer, this.options.journal)
    this.sessions.set(clientId, session)
    const now = Date.now()
    this.startExpiry(session, timing.expiresAt)
    if (timing.will !== undefined) {
      const leftAt = timing.expiresAt !== undefined && expiryInterval !== NEVER ? timing.expiresAt - expiryInterval * 1000 : now
      this.holdWill(session, timing.will, Math.max(0, leftAt + timing.will.delay * 1000 - now))
    }
    return session
  }

  /**
   * The connection `tenant` ended: a clean session ends with it, a persistent one waits
   * offline for its expiry interval. `will` is a will due with a delay, held until then.
   */
  release (session: Session, tenant: SessionTenant, delayedWill?: { readonly message: Message, readonly delay: number }): void {
    if (this.tenants.get(session) !== tenant) return
    this.tenants.delete(session)
    session.detach(tenant)
    session.will = undefined
    if (!session.persistent) {
      if (delayedWill !== undefined) this.options.publishWill(delayedWill.message)
      this.discard(session)
      return
    }
    if (delayedWill !== undefined) this.holdWill(session, delayedWill, delayedWill.delay * 1000)
    this.startExpiry(session)
    this.options.saved?.(session)
  }

  /** Ends `session` for good: its subscriptions and queued messages are gone, and a will still waiting is sent. */
  discard (session: Session): void {
    clearTimeout(session.expiryTimer)
    session.expiryTimer = undefined
    const pending = this.pendingWills.get(session)
    if (pending !== undefined) {
      this.cancelWill(session)
      this.options.publishWill(pending.will)
    }
    if (this.sessions.get(session.clientId) === session) this.sessions.delete(session.clientId)
    const tenant = this.tenants.get(session)
    if (tenant !== undefined) {
      this.tenants.delete(session)
      session.detach(tenant)
    }
    this.options.onDiscard(session)
    session.reset()
  }

  /** Stops every expiry and will timer: the broker is stopping, and sessions stay as they are. */
  close (): void {
    clearInterval(this.sweep)
    for (const session of [...this.sessions.values()]) {
      clearTimeout(session.expiryTimer)
      session.expiryTimer = undefined
    }
    for (const session of [...this.pendingWills.keys()]) this.cancelWill(session)
  }

  private holdWill (session: Session, will: { readonly message: Message, readonly delay: number }, delayMs: number): void {
    session.will = will
    const timer = setTimeout(() => {
      this.pendingWills.delete(session)
      session.will = undefined
      this.options.publishWill(will.message)
      if (this.sessions.get(session.clientId) === session) this.options.saved?.(session)
    }, Math.min(delayMs, MAX_TIMER_MS))
    timer.unref()
    this.pendingWills.set(session, { will: will.message, timer })
  }

  private startExpiry (session: Session, deadline?: number): void {
    if (session.expiryInterval === NEVER) return
    deadline ??= Date.now() + session.expiryInterval * 1000
    session.expiresAt = deadline
    const arm = (): void => {
      const left = deadline - Date.now()
      session.expiryTimer = setTimeout(() => left > MAX_TIMER_MS ? arm() : this.discard(session), Math.min(left, MAX_TIMER_MS))
      session.expiryTimer.unref()
    }
    arm()
  }

  private cancelWill (session: Session): void {
    const pending = this.pendingWills.get(session)
    if (pending === undefined) return
    clearTimeout(pending.timer)
    this.pendingWills.delete(session)
    session.will = undefined
  }
}
