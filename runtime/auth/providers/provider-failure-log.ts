import type { Logger } from 'pino'
import type { ProviderCheck, ProviderLink } from './provider-link.js'

/** At most one line per provider in this time; the failures in between are counted in the next line. */
const LOG_EVERY_MS = 10_000

/**
 * Logs auth provider failures at error level, at most once every ten seconds per provider: a
 * service that is down fails every question, and one line per question would drown the log.
 */
export function providerFailureLog (log: Logger): (link: ProviderLink, check: ProviderCheck, problem: string) => void {
  const state = new Map<ProviderLink, { lastLoggedAt: number, unlogged: number }>()
  return (link, check, problem) => {
    const now = Date.now()
    const entry = state.get(link) ?? { lastLoggedAt: -Infinity, unlogged: 0 }
    state.set(link, entry)
    if (now - entry.lastLoggedAt < LOG_EVERY_MS) {
      entry.unlogged++
      return
    }
    log.error({ provider: link.settings.name, check, problem, failuresSinceLastLine: entry.unlogged }, 'auth provider failed: the request is refused (fix the provider, or raise its timeout)')
    entry.lastLoggedAt = now
    entry.unlogged = 0
  }
}
