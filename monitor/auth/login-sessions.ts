import { randomBytes, timingSafeEqual } from 'node:crypto'
import type { MonitorRole } from './monitor-users.js'

/** A signed-in browser. */
export interface LoginSession {
  readonly user: string
  readonly role: MonitorRole
  /** Sent back in every form: a request that changes something must carry it (CSRF). */
  readonly csrfToken: string
  expiresAt: number
}

/** How long a sign-in lasts without use. */
const IDLE_MS = 8 * 60 * 60 * 1000
/** Most sign-ins kept at once; the oldest go first beyond it. */
const MAX_SESSIONS = 10_000

/**
 * Signed-in browsers, by the random token in their cookie. Kept in memory: a restart signs
 * everyone out, which for an operator's tool is a feature, not a loss.
 */
export class LoginSessions {
  private readonly sessions = new Map<string, LoginSession>()

  create (user: string, role: MonitorRole): { token: string, session: LoginSession } {
    if (this.sessions.size >= MAX_SESSIONS) this.sessions.delete(this.sessions.keys().next().value!)
    const token = randomBytes(32).toString('base64url')
    const session: LoginSession = { user, role, csrfToken: randomBytes(24).toString('base64url'), expiresAt: Date.now() + IDLE_MS }
    this.sessions.set(token, session)
    return { token, session }
  }

  /** The session of `token`, kept alive by the use; undefined when unknown or expired. */
  find (token: string | undefined): LoginSession | undefined {
    if (token === undefined) return undefined
    const session = this.sessions.get(token)
    if (session === undefined) return undefined
    if (session.expiresAt < Date.now()) {
      this.sessions.delete(token)
      return undefined
    }
    session.expiresAt = Date.now() + IDLE_MS
    return session
  }

  end (token: string | undefined): void {
    if (token !== undefined) this.sessions.delete(token)
  }
}

/** Whether a form's CSRF token is the session's, compared in constant time. */
export function csrfTokenMatches (session: LoginSession, sent: unknown): boolean {
  if (typeof sent !== 'string') return false
  const expected = Buffer.from(session.csrfToken)
  const given = Buffer.from(sent)
  return given.length === expected.length && timingSafeEqual(given, expected)
}
