/** A connection as the keep-alive sweeper sees it. */
export interface KeepAliveSubject {
  /** `performance.now()` of the last chunk received. */
  readonly lastActivityAt: number
  /** Silence allowed: one and a half keep-alive periods, in milliseconds [MQTT-3.1.2-24]. */
  readonly keepAliveTimeoutMs: number
  keepAliveExpired (): void
}

/** How often the sweeper looks; a dead connection is found at most this late. */
const SWEEP_INTERVAL_MS = 500

/**
 * Finds connections that went silent for longer than their keep-alive allows. One timer
 * for the whole broker sweeps every watched connection twice a second; the data path only
 * stamps the time of the last chunk, so traffic costs no timer work and an idle connection
 * costs a set entry rather than a timer of its own.
 */
export class KeepAliveSweeper {
  private readonly watched = new Set<KeepAliveSubject>()
  private timer: NodeJS.Timeout | undefined

  get size (): number {
    return this.watched.size
  }

  watch (subject: KeepAliveSubject): void {
    this.watched.add(subject)
    if (this.timer === undefined) {
      this.timer = setInterval(() => this.sweep(), SWEEP_INTERVAL_MS)
      this.timer.unref()
    }
  }

  unwatch (subject: KeepAliveSubject): void {
    this.watched.delete(subject)
    if (this.watched.size === 0) this.stop()
  }

  stop (): void {
    clearInterval(this.timer)
    this.timer = undefined
  }

  private sweep (): void {
    const now = performance.now()
    for (const subject of this.watched) {
      if (now - subject.lastActivityAt < subject.keepAliveTimeoutMs) continue
      this.watched.delete(subject)
      subject.keepAliveExpired()
    }
    if (this.watched.size === 0) this.stop()
  }
}
