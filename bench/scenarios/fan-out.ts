import { RawClient } from '../load/client.js'
import { encodePublish } from '../load/packets.js'
import { CountingSubscriber } from '../load/subscriber.js'
import { describeCpu, measureRate } from '../rate-window.js'
import type { Scenario } from '../scenario.js'
import { qos0Load } from './qos0-load.js'

/**
 * One QoS 0 publisher, many subscribers of the same topic: deliveries per second summed over
 * all subscribers, i.e. the cost of copying one message out to many connections.
 */
export const fanOut: Scenario = {
  id: 'fan-out',
  title: 'QoS 0 fan-out',
  tuning: { maxInflight: 100, maxQueued: 10_000, tcpNoDelay: false },
  metrics: [{ key: 'rate', label: 'QoS 0 fan-out', unit: 'deliveries/s', better: 'higher', decimals: 0 }],
  async run ({ broker, options, runId, version }) {
    const topic = 'bench/fan-out'
    const clients: RawClient[] = []
    try {
      const subscribers: CountingSubscriber[] = []
      for (let i = 0; i < options.subscribers; i++) {
        const client = await RawClient.connect({ port: broker.port, clientId: `${runId}-sub${i}`, version })
        clients.push(client)
        subscribers.push(new CountingSubscriber(client, false))
        await client.subscribe(topic, 0)
      }
      const publisherClient = await RawClient.connect({ port: broker.port, clientId: `${runId}-pub`, version })
      clients.push(publisherClient)
      const packet = encodePublish(topic, Buffer.alloc(options.payloadBytes, 0x61), 0, version).bytes
      const delivered = (): number => {
        let sum = 0
        for (const subscriber of subscribers) sum += subscriber.received
        return sum
      }
      const load = qos0Load([{ client: publisherClient, packet }], subscribers.map(s => s.client), delivered, options.qos0Window)
      load.start()
      const sample = await measureRate(broker, delivered, options.warmupSeconds, options.seconds)
      load.stop()
      return {
        values: { rate: sample.rate },
        detail: `${describeCpu(sample)}; ${delivered()} deliveries of ${load.sent} sent × ${options.subscribers} subscribers, ${Math.round(load.lost)} written off as dropped`
      }
    } finally {
      for (const client of clients) client.destroy()
    }
  }
}
