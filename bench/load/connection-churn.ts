import { RawClient } from './client.js'
import { forEachConcurrently } from './concurrency.js'
import type { MqttVersion } from './packets.js'

export interface ChurnOptions {
  readonly port: number
  readonly version: MqttVersion
  readonly count: number
  readonly parallel: number
  /** Client ids are this prefix plus an index, unique within one broker run. */
  readonly idPrefix: string
}

/**
 * Opens `count` connections, `parallel` at a time: each one TCP connect, CONNECT, CONNACK,
 * then DISCONNECT and FIN, and the lane moves on to the next without waiting for the broker
 * to finish closing (a broker that is slow to close still pays for it in CPU).
 * Resolves to the time it all took, in ms.
 */
export async function churnConnections (options: ChurnOptions): Promise<number> {
  const started = performance.now()
  await forEachConcurrently(options.count, options.parallel, async index => {
    const client = await RawClient.connect({ port: options.port, clientId: `${options.idPrefix}${index}`, version: options.version, localAddress: loopbackSource(index) })
    client.disconnect()
  })
  return performance.now() - started
}

/** Opens `count` connections and keeps them open and idle (no keep-alive, no subscriptions). */
export async function openIdleConnections (options: ChurnOptions): Promise<RawClient[]> {
  const clients: RawClient[] = []
  try {
    await forEachConcurrently(options.count, options.parallel, async index => {
      clients.push(await RawClient.connect({ port: options.port, clientId: `${options.idPrefix}${index}`, version: options.version, localAddress: loopbackSource(index) }))
    })
  } catch (error) {
    for (const client of clients) client.destroy()
    throw error
  }
  return clients
}

/**
 * A source address in 127.0.0.0/8 for connection `index`, a different one for each of 250
 * consecutive connections. From 127.0.0.1 alone, a run of the benchmark leaves some 27,000
 * closed connections in TIME_WAIT, nearly the whole ephemeral port range (32768-60999): the
 * kernel's search for a free port then slowed each connect enough to halve the measured rate
 * of the runs that came later and made it swing from run to run. Each source address has a
 * port range of its own, and the 64,000 addresses used here keep the ranges far from full.
 */
function loopbackSource (index: number): string {
  return `127.0.${Math.floor(index / 250) % 256}.${2 + index % 250}`
}
