import { monitorEventLoopDelay, performance, PerformanceObserver, type EventLoopUtilization, type IntervalHistogram } from 'node:perf_hooks'
import { getHeapStatistics } from 'node:v8'

/** The broker process at one moment: what the monitor's System page and /metrics show. */
export interface ProcessStats {
  readonly nodeVersion: string
  readonly pid: number
  readonly uptimeSeconds: number
  /** Share of one core over the last interval (1 = one core busy). */
  readonly cpu: number
  readonly cpuSecondsTotal: number
  readonly rssBytes: number
  readonly heapUsedBytes: number
  readonly heapTotalBytes: number
  readonly heapLimitBytes: number
  readonly externalBytes: number
  /** Event loop delay over the last interval, ms. */
  readonly eventLoopDelayMs: { readonly p50: number, readonly p99: number, readonly max: number }
  /** Share of the last interval the event loop was busy, 0..1. */
  readonly eventLoopUtilization: number
  readonly gc: { readonly count: number, readonly totalMs: number }
}

/** How often the event loop delay is sampled, ms. */
const DELAY_RESOLUTION_MS = 10

/**
 * How late a sampling timer fired, in ms: Node's histogram records the whole interval between
 * samples (a loop that is never blocked reads about DELAY_RESOLUTION_MS), so the resolution is
 * taken off.
 */
function lateness (intervalNanoseconds: number): number {
  return Math.max(0, intervalNanoseconds / 1e6 - DELAY_RESOLUTION_MS)
}

/**
 * Watches the process: CPU, memory, event loop delay and utilisation, garbage collection.
 * Intervals are measured between calls of `stats()`, so a caller that samples once a second
 * sees the last second. Costs one timer-free histogram and a GC observer.
 */
export class ProcessMonitor {
  private readonly delay: IntervalHistogram = monitorEventLoopDelay({ resolution: DELAY_RESOLUTION_MS })
  private readonly gcObserver: PerformanceObserver
  private gcCount = 0
  private gcMs = 0
  private lastCpu = process.cpuUsage()
  private lastAt = performance.now()
  private lastLoop: EventLoopUtilization = performance.eventLoopUtilization()

  constructor () {
    this.delay.enable()
    this.gcObserver = new PerformanceObserver(list => {
      for (const entry of list.getEntries()) {
        this.gcCount++
        this.gcMs += entry.duration
      }
    })
    this.gcObserver.observe({ entryTypes: ['gc'] })
  }

  stats (): ProcessStats {
    const now = performance.now()
    const cpu = process.cpuUsage()
    const usedMicros = (cpu.user - this.lastCpu.user) + (cpu.system - this.lastCpu.system)
    const elapsedMs = Math.max(now - this.lastAt, 1)
    const loop = performance.eventLoopUtilization(this.lastLoop)
    const memory = process.memoryUsage()
    const stats: ProcessStats = {
      nodeVersion: process.version,
      pid: process.pid,
      uptimeSeconds: process.uptime(),
      cpu: usedMicros / 1000 / elapsedMs,
      cpuSecondsTotal: (cpu.user + cpu.system) / 1e6,
      rssBytes: memory.rss,
      heapUsedBytes: memory.heapUsed,
      heapTotalBytes: memory.heapTotal,
      heapLimitBytes: getHeapStatistics().heap_size_limit,
      externalBytes: memory.external,
      eventLoopDelayMs: {
        p50: lateness(this.delay.percentile(50)),
        p99: lateness(this.delay.percentile(99)),
        max: lateness(this.delay.max)
      },
      eventLoopUtilization: loop.utilization,
      gc: { count: this.gcCount, totalMs: this.gcMs }
    }
    this.lastCpu = cpu
    this.lastAt = now
    this.lastLoop = performance.eventLoopUtilization()
    this.delay.reset()
    return stats
  }

  stop (): void {
    this.delay.disable()
    this.gcObserver.disconnect()
  }
}
