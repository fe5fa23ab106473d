import { RawClient } from '../load/client.js'
import { encodePublish } from '../load/packets.js'
import { CountingSubscriber } from '../load/subscriber.js'
import { describeCpu, measureRate } from '../rate-window.js'
import type { Scenario } from '../scenario.js'
import { qos0Load } from './qos0-load.js'

/**
 * Many QoS 0 publishers, each on its own topic, all matched by one subscriber's wildcard:
 * how many messages per second the broker routes into a single connection.
 */
export const fanIn: Scenario = {
  id: 'fan-in',
  title: 'QoS 0 fan-in',
  // QoS 0 never waits behind an inflight window; the queue bound matters to Mosquitto, which
  // counts QoS 0 messages waiting for a slow socket against it and drops past it.
  tuning: { maxInflight: 100, maxQueued: 10_000, tcpNoDelay: false },
  metrics: [{ key: 'rate', label: 'QoS 0 fan-in', unit: 'msgs/s', better: 'higher', decimals: 0 }],
  async run ({ broker, options, runId, version }) {
    const clients: RawClient[] = []
    try {
      const subscriberClient = await RawClient.connect({ port: broker.port, clientId: `${runId}-sub`, version })
      clients.push(subscriberClient)
      const subscriber = new CountingSubscriber(subscriberClient, false)
      await subscriberClient.subscribe('bench/fan-in/+', 0)
      const publishers: Array<{ client: RawClient, packet: Buffer }> = []
      for (let i = 0; i < options.publishers; i++) {
        const client = await RawClient.connect({ port: broker.port, clientId: `${runId}-pub${i}`, version })
        clients.push(client)
        publishers.push({ client, packet: encodePublish(`bench/fan-in/${i}`, Buffer.alloc(options.payloadBytes, 0x61), 0, version).bytes })
      }
      const load = qos0Load(publishers, [subscriberClient], () => subscriber.received, options.qos0Window)
      load.start()
      const sample = await measureRate(broker, () => subscriber.received, options.warmupSeconds, options.seconds)
      load.stop()
      return {
        values: { rate: sample.rate },
        detail: `${describeCpu(sample)}; ${subscriber.received} delivered of ${load.sent} sent, ${load.lost} written off as dropped`
      }
    } finally {
      for (const client of clients) client.destroy()
    }
  }
}
