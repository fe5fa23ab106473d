import { setTimeout as sleep } from 'node:timers/promises'
import type { BrokerProcess } from './broker-process.js'

export interface RateSample {
  /** Events per second over the measured window. */
  readonly rate: number
  /** CPU the broker used during the window, in cores (1 = one core fully busy). */
  readonly brokerCpu: number
  /** CPU this load process used during the window, in cores: near 1 means the load may be the bottleneck. */
  readonly loadCpu: number
}

/**
 * Lets load run for `warmupSeconds` (JIT, socket buffers and queues reach steady state), then
 * measures how fast `count` grows over `seconds`, with the CPU each side spent meanwhile.
 */
export async function measureRate (broker: BrokerProcess, count: () => number, warmupSeconds: number, seconds: number): Promise<RateSample> {
  await sleep(warmupSeconds * 1000)
  const startCount = count()
  const startTime = performance.now()
  const startBroker = broker.cpuSeconds()
  const startLoad = process.cpuUsage()
  await sleep(seconds * 1000)
  const elapsed = (performance.now() - startTime) / 1000
  const load = process.cpuUsage(startLoad)
  const brokerCpu = (broker.cpuSeconds() - startBroker) / elapsed
  const counted = count() - startCount
  if (!broker.alive) throw new Error(`${broker.name} died during the measured window:\n${broker.output}`)
  return { rate: counted / elapsed, brokerCpu, loadCpu: (load.user + load.system) / 1e6 / elapsed }
}

/** "broker 0.99 cores, load 0.45 cores": the line that shows which side was saturated. */
export function describeCpu (sample: RateSample): string {
  return `broker ${sample.brokerCpu.toFixed(2)} cores, load ${sample.loadCpu.toFixed(2)} cores`
}
