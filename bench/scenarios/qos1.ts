import { RawClient } from '../load/client.js'
import { encodePublish } from '../load/packets.js'
import { Qos1Flow } from '../load/qos1-flow.js'
import { CountingSubscriber } from '../load/subscriber.js'
import { WindowedPublisher } from '../load/windowed-publisher.js'
import { describeCpu, measureRate } from '../rate-window.js'
import type { Scenario } from '../scenario.js'

/**
 * QoS 1 end to end: publishers each keep a bounded window of unacknowledged PUBLISHes (and all
 * of them together at most publishers × window not yet delivered), one subscriber at QoS 1
 * acknowledges everything. Messages per second delivered to the subscriber, with both
 * acknowledgement legs and the broker's inflight tracking in the loop.
 *
 * The subscriber holds a persistent session, on every broker: a durable store journals only
 * the messages of persistent sessions, so with a clean one Troupe on LevelDB would write
 * nothing and measure as its memory store. The publishers stay clean: their messages pass
 * through and are kept, if at all, in the subscriber's session.
 */
export const qos1: Scenario = {
  id: 'qos1',
  title: 'QoS 1 end to end',
  // 100 outbound in flight per session (Troupe's default) for every broker that has the
  // setting; a queue far above publishers × window, so nothing is dropped. TCP_NODELAY: with
  // Nagle on, Mosquitto idled at half a core waiting for the subscriber's delayed ACKs.
  tuning: { maxInflight: 100, maxQueued: 10_000, tcpNoDelay: true },
  metrics: [{ key: 'rate', label: 'QoS 1 end to end', unit: 'msgs/s', better: 'higher', decimals: 0 }],
  async run ({ broker, options, runId, version }) {
    const clients: RawClient[] = []
    try {
      const subscriberClient = await RawClient.connect({ port: broker.port, clientId: `${runId}-sub`, version, session: 'persistent' })
      clients.push(subscriberClient)
      const subscriber = new CountingSubscriber(subscriberClient, true)
      await subscriberClient.subscribe('bench/qos1/+', 1)
      const publishers: WindowedPublisher[] = []
      for (let i = 0; i < options.qos1Publishers; i++) {
        const client = await RawClient.connect({ port: broker.port, clientId: `${runId}-pub${i}`, version })
        clients.push(client)
        const template = encodePublish(`bench/qos1/${i}`, Buffer.alloc(options.payloadBytes, 0x61), 1, version)
        publishers.push(new WindowedPublisher(client, template, options.qos1Window))
      }
      const flow = new Qos1Flow(publishers, () => subscriber.received, options.qos1Publishers * options.qos1Window, clients)
      flow.start()
      const sample = await measureRate(broker, () => subscriber.received, options.warmupSeconds, options.seconds)
      flow.stop()
      const acked = publishers.reduce((sum, publisher) => sum + publisher.acked, 0)
      return {
        values: { rate: sample.rate },
        detail: `${describeCpu(sample)}; ${flow.sent} sent, ${acked} PUBACKed to publishers, ${subscriber.received} delivered`
      }
    } finally {
      for (const client of clients) client.destroy()
    }
  }
}
