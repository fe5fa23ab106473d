import { setTimeout as sleep } from 'node:timers/promises'
import { churnConnections, openIdleConnections } from '../load/connection-churn.js'
import type { Scenario } from '../scenario.js'

/** Connections opened and closed first, so that code loaded and compiled on first use is not counted per connection. */
const WARMUP_CONNECTIONS = 100
/** Time for the broker to finish with the warm-up, and later to settle with the idle connections, before RSS is read. */
const SETTLE_MS = 1500
const IDLE_PARALLEL = 100

/**
 * Memory per idle connection: broker RSS with N connected, idle clients (CONNECT done, no
 * subscription, no keep-alive) minus RSS before they connected, divided by N, in KB.
 */
export const memory: Scenario = {
  id: 'memory',
  title: 'Memory per idle connection',
  tuning: { maxInflight: 100, maxQueued: 1000, tcpNoDelay: false },
  metrics: [{ key: 'perConnection', label: 'memory per idle connection', unit: 'KB', better: 'lower', decimals: 1 }],
  async run ({ broker, options, runId, version }) {
    const base = { port: broker.port, version, parallel: IDLE_PARALLEL }
    await churnConnections({ ...base, count: WARMUP_CONNECTIONS, idPrefix: `${runId}-w` })
    await sleep(SETTLE_MS)
    const before = broker.rssKb()
    const clients = await openIdleConnections({ ...base, count: options.idleConnections, idPrefix: `${runId}-i` })
    try {
      await sleep(SETTLE_MS)
      const after = broker.rssKb()
      if (!broker.alive) throw new Error(`${broker.name} died holding idle connections:\n${broker.output}`)
      return {
        values: { perConnection: (after - before) / options.idleConnections },
        detail: `RSS ${(before / 1024).toFixed(1)} MB before, ${(after / 1024).toFixed(1)} MB with ${options.idleConnections} idle connections`
      }
    } finally {
      for (const client of clients) client.destroy()
    }
  }
}
