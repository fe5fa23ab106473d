import { churnConnections } from '../load/connection-churn.js'
import type { Scenario } from '../scenario.js'

/** Connections opened and closed before the measured ones, so that the broker's code paths are warm. */
const WARMUP_CONNECTIONS = 200

/**
 * Connection rate: many short-lived clients, a few dozen at a time, each TCP connect →
 * CONNECT → CONNACK → DISCONNECT. Connections per second over the whole batch.
 */
export const connect: Scenario = {
  id: 'connect',
  title: 'Connect rate',
  tuning: { maxInflight: 100, maxQueued: 1000, tcpNoDelay: false },
  metrics: [{ key: 'rate', label: 'connect rate', unit: 'conn/s', better: 'higher', decimals: 0 }],
  async run ({ broker, options, runId, version }) {
    const base = { port: broker.port, version, parallel: options.connectParallel }
    await churnConnections({ ...base, count: Math.min(WARMUP_CONNECTIONS, options.connections), idPrefix: `${runId}-w` })
    const cpuBefore = broker.cpuSeconds()
    const loadBefore = process.cpuUsage()
    const elapsedMs = await churnConnections({ ...base, count: options.connections, idPrefix: `${runId}-c` })
    const brokerCpu = (broker.cpuSeconds() - cpuBefore) / (elapsedMs / 1000)
    const load = process.cpuUsage(loadBefore)
    const loadCpu = (load.user + load.system) / 1000 / elapsedMs
    if (!broker.alive) throw new Error(`${broker.name} died while clients connected:\n${broker.output}`)
    return {
      values: { rate: options.connections / (elapsedMs / 1000) },
      detail: `broker ${brokerCpu.toFixed(2)} cores, load ${loadCpu.toFixed(2)} cores; ${options.connections} connections in ${elapsedMs.toFixed(0)} ms, ${options.connectParallel} at a time`
    }
  }
}
