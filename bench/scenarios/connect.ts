import { churnConnections } from '../load/connection-churn.js'
import type { BrokerProcess } from '../broker-process.js'
import type { Scenario } from '../scenario.js'

/**
 * Connections opened and closed between the cold and the steady measurement. The code a
 * connection runs (accept, CONNECT, CONNACK, close) runs once per connection, so the JIT
 * needs thousands of them: measured in batches of 500, both Node.js brokers reach their
 * steady rate only after about 2,500 connections, at three times their first rate.
 */
const WARMUP_CONNECTIONS = 2000

/**
 * Connection rate: many short-lived clients, a few dozen at a time, each TCP connect →
 * CONNECT → CONNACK → DISCONNECT. Two numbers: the first `--connections` right after the
 * broker starts (cold, what a restart's reconnect storm meets), and as many again once the
 * broker is warm (steady, what a long-running broker does, as every other scenario measures).
 */
export const connect: Scenario = {
  id: 'connect',
  title: 'Connect rate',
  tuning: { maxInflight: 100, maxQueued: 1000, tcpNoDelay: false },
  metrics: [
    { key: 'rate', label: 'connect rate', unit: 'conn/s', better: 'higher', decimals: 0 },
    { key: 'cold', label: 'connect rate after start', unit: 'conn/s', better: 'higher', decimals: 0 }
  ],
  async run ({ broker, options, runId, version }) {
    const base = { port: broker.port, version, parallel: options.connectParallel }
    const measure = async (idPrefix: string): Promise<{ rate: number, detail: string }> => {
      const cpuBefore = broker.cpuSeconds()
      const loadBefore = process.cpuUsage()
      const elapsedMs = await churnConnections({ ...base, count: options.connections, idPrefix })
      assertAlive(broker)
      const brokerCpu = (broker.cpuSeconds() - cpuBefore) / (elapsedMs / 1000)
      const load = process.cpuUsage(loadBefore)
      const loadCpu = (load.user + load.system) / 1000 / elapsedMs
      return { rate: options.connections / (elapsedMs / 1000), detail: `broker ${brokerCpu.toFixed(2)} cores, load ${loadCpu.toFixed(2)} cores` }
    }
    const cold = await measure(`${runId}-c`)
    await churnConnections({ ...base, count: WARMUP_CONNECTIONS, idPrefix: `${runId}-w` })
    assertAlive(broker)
    const steady = await measure(`${runId}-s`)
    return {
      values: { rate: steady.rate, cold: cold.rate },
      detail: `${options.connections} connections, ${options.connectParallel} at a time; steady: ${steady.detail}; after start: ${cold.rate.toFixed(0)} conn/s, ${cold.detail}`
    }
  }
}

function assertAlive (broker: BrokerProcess): void {
  if (!broker.alive) throw new Error(`${broker.name} died while clients connected:\n${broker.output}`)
}
