import { setTimeout as sleep } from 'node:timers/promises'
import { RawClient } from '../load/client.js'
import { LatencyRecorder } from '../load/latency-recorder.js'
import { PacedPublisher } from '../load/paced-publisher.js'
import { encodePublish } from '../load/packets.js'
import type { Scenario } from '../scenario.js'

/** Time allowed after the window for messages still on their way, so they count rather than vanish. */
const TAIL_MS = 250

/**
 * Latency at a fixed, moderate rate (far below saturation): one QoS 0 publisher, one
 * subscriber, send time in the payload. p50 and p99 of publish-to-receive time, in ms, of the
 * steady state: after --latency-warmup seconds at the rate (default 5), for every broker.
 */
export const latency: Scenario = {
  id: 'latency',
  title: 'Latency at a fixed rate',
  // TCP_NODELAY, as a latency-minded deployment sets it (Troupe always does): Nagle's
  // algorithm would hold a message back until the previous one's ACK.
  tuning: { maxInflight: 100, maxQueued: 1000, tcpNoDelay: true },
  metrics: [
    { key: 'p50', label: 'latency p50', unit: 'ms', better: 'lower', decimals: 3 },
    { key: 'p99', label: 'latency p99', unit: 'ms', better: 'lower', decimals: 3 }
  ],
  async run ({ broker, options, runId, version }) {
    const topic = 'bench/latency'
    const clients: RawClient[] = []
    try {
      const subscriberClient = await RawClient.connect({ port: broker.port, clientId: `${runId}-sub`, version })
      clients.push(subscriberClient)
      const recorder = new LatencyRecorder(subscriberClient)
      await subscriberClient.subscribe(topic, 0)
      const publisherClient = await RawClient.connect({ port: broker.port, clientId: `${runId}-pub`, version })
      clients.push(publisherClient)
      const publisher = new PacedPublisher(publisherClient, encodePublish(topic, Buffer.alloc(options.payloadBytes, 0x61), 0, version), options.latencyRate)
      publisher.start()
      await sleep(options.latencyWarmupSeconds * 1000)
      const sentBefore = publisher.sent
      const brokerCpuBefore = broker.cpuSeconds()
      recorder.recording = true
      await sleep(options.seconds * 1000)
      publisher.stop()
      const sent = publisher.sent - sentBefore
      const brokerCpu = (broker.cpuSeconds() - brokerCpuBefore) / options.seconds
      await sleep(TAIL_MS)
      recorder.recording = false
      if (!broker.alive) throw new Error(`${broker.name} died during the measured window:\n${broker.output}`)
      return {
        values: { p50: recorder.percentile(50), p99: recorder.percentile(99) },
        detail: `broker ${brokerCpu.toFixed(2)} cores; ${recorder.size} of ${sent} sent received, max ${recorder.percentile(100).toFixed(3)} ms`
      }
    } finally {
      for (const client of clients) client.destroy()
    }
  }
}
