/**
 * Watches a connection for silence: if no packet arrives within one and a half keep-alive
 * periods, the connection is dead [MQTT-3.1.2-24]. The data path only stamps the time of
 * the last chunk; the timer re-arms itself lazily, so traffic costs no timer work.
 */
export class KeepAliveWatch {
  private timer: NodeJS.Timeout | undefined

  constructor (
    private readonly lastActivity: () => number,
    private readonly timeoutMs: number,
    private readonly onExpired: () => void
  ) {
    this.arm(timeoutMs)
  }

  stop (): void {
    clearTimeout(this.timer)
    this.timer = undefined
  }

  private arm (delayMs: number): void {
    this.timer = setTimeout(() => this.check(), delayMs)
    this.timer.unref()
  }

  private check (): void {
    const silentFor = performance.now() - this.lastActivity()
    if (silentFor >= this.timeoutMs) {
      this.timer = undefined
      this.onExpired()
      return
    }
    this.arm(this.timeoutMs - silentFor)
  }
}
