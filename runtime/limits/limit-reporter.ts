import type { Logger } from 'pino'
import type { TrafficCounters } from '../../actors/connection/broker-services.js'
import type { LimitContext, LimitKind } from '../../actors/connection/limits/limit-kind.js'

/** At most one log line per limit in this many milliseconds; the events in between are summed up in the next one. */
const LOG_INTERVAL_MS = 10_000

/** What the operator reads when a limit acts, and how loudly. */
const MESSAGES: Readonly<Record<LimitKind, { readonly level: 'warn' | 'info', readonly text: string }>> = {
  'max-connections': { level: 'warn', text: 'connection refused: the broker holds max-connections connections' },
  'max-connections-per-address': { level: 'warn', text: 'connection refused: its address holds max-connections-per-address connections' },
  'max-connection-rate': { level: 'warn', text: 'connection refused: its address opens connections faster than max-connection-rate' },
  'max-client-id-length': { level: 'warn', text: 'connection refused: client id longer than max-client-id-length' },
  'max-topic-length': { level: 'warn', text: 'topic refused: longer than max-topic-length' },
  'max-topic-levels': { level: 'warn', text: 'topic refused: more levels than max-topic-levels' },
  'max-subscriptions': { level: 'warn', text: 'subscription refused: the client holds max-subscriptions subscriptions' },
  'max-queued': { level: 'warn', text: 'message dropped: the session queue holds max-queued messages' },
  'max-queued-bytes': { level: 'warn', text: 'message dropped: the session queue holds max-queued-bytes of payload' },
  'max-message-rate': { level: 'info', text: 'client slowed down: it publishes faster than max-message-rate' },
  'max-bandwidth': { level: 'info', text: 'client slowed down: it sends faster than max-bandwidth' },
  'max-packet-size': { level: 'warn', text: 'connection closed: packet larger than max-packet-size' },
  'memory-watermark': { level: 'warn', text: 'refused or shed while memory is above memory-watermark' }
}

/**
 * Counts every time a limit acts (`counters.limited`) and tells the operator, without letting
 * a flood of refusals become a flood of log lines: per limit, one line at most every ten
 * seconds, naming the client and address of the event that made it and how many more came
 * since the last line.
 */
export class LimitReporter {
  private readonly lastLogged = new Map<LimitKind, number>()
  private readonly unlogged = new Map<LimitKind, number>()

  constructor (private readonly counters: TrafficCounters, private readonly log: Logger) {}

  reached (kind: LimitKind, context: LimitContext): void {
    this.counters.limited[kind]++
    const now = performance.now()
    const last = this.lastLogged.get(kind)
    if (last !== undefined && now - last < LOG_INTERVAL_MS) {
      this.unlogged.set(kind, (this.unlogged.get(kind) ?? 0) + 1)
      return
    }
    const message = MESSAGES[kind]
    const since = this.unlogged.get(kind) ?? 0
    this.lastLogged.set(kind, now)
    this.unlogged.delete(kind)
    if (!this.log.isLevelEnabled(message.level)) return
    this.log[message.level]({ limit: kind, ...context, ...(since > 0 ? { moreSinceLastLog: since } : {}) }, message.text)
  }
}
