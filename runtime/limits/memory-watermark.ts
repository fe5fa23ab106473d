import { totalmem } from 'node:os'
import { getHeapStatistics } from 'node:v8'
import type { Logger } from 'pino'
import type { MemoryWatermarkSetting } from '../config/memory-watermark-option.js'

/** How often memory is sampled: a timer, never the data path. */
const SAMPLE_INTERVAL_MS = 1000
/** The JavaScript heap counts as overloaded above this share of its limit, where V8 would soon give up. */
const HEAP_SHARE = 0.9
/** Overload ends below this share of what began it, so that it does not flap at the line. */
const RECOVERY_SHARE = 0.9

/**
 * Watches the process's memory and says when it is overloaded: resident memory above the
 * watermark, or the JavaScript heap near its limit. While overloaded the broker refuses new
 * connections and drops QoS 0 to clients that fell behind, rather than grow until it dies;
 * entering and leaving are logged.
 */
export class MemoryWatermark {
  private over = false
  private timer: NodeJS.Timeout | undefined
  private readonly heapLimit = getHeapStatistics().heap_size_limit

  /** `watermark`: bytes of resident memory; 0 turns the watch off. */
  constructor (readonly watermark: number, private readonly log: Logger) {}

  get overloaded (): boolean {
    return this.over
  }

  start (): void {
    if (this.watermark === 0 || this.timer !== undefined) return
    this.sample()
    this.timer = setInterval(() => this.sample(), SAMPLE_INTERVAL_MS)
    this.timer.unref()
  }

  stop (): void {
    clearInterval(this.timer)
    this.timer = undefined
  }

  /** Looks at memory now (the timer does this every second). */
  sample (): void {
    const { rss, heapUsed } = process.memoryUsage()
    const heapLine = this.heapLimit * HEAP_SHARE
    const fields = { rss, heapUsed, watermark: this.watermark, heapLimit: this.heapLimit }
    if (!this.over && (rss > this.watermark || heapUsed > heapLine)) {
      this.over = true
      this.log.warn(fields, 'memory above memory-watermark: refusing new connections and dropping QoS 0 to clients that fell behind until it falls')
    } else if (this.over && rss < this.watermark * RECOVERY_SHARE && heapUsed < heapLine * RECOVERY_SHARE) {
      this.over = false
      this.log.info(fields, 'memory back under memory-watermark: accepting connections again')
    }
  }
}

/** The watermark in bytes: a percentage is of the memory available to the process (0 stays off). */
export function watermarkBytes (setting: MemoryWatermarkSetting, available = availableMemory()): number {
  if (typeof setting === 'number') return setting
  return Math.floor(available * Number(setting.slice(0, -1)) / 100)
}

/** The process's cgroup memory limit where it has one, otherwise the machine's memory. */
export function availableMemory (): number {
  const total = totalmem()
  const constrained = process.constrainedMemory?.() ?? 0
  return constrained > 0 && constrained < total ? constrained : total
}
