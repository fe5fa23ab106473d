import * as assert from 'uvu/assert'
import { collect, connectClient, eventually } from './mqtt-clients.js'
import type { TestBroker } from './test-broker.js'

let checks = 0

/** A QoS 1 round trip between two fresh MQTT.js clients: the broker still serves after whatever came before. */
export async function assertStillServing (broker: TestBroker): Promise<void> {
  const topic = `serving/check/${++checks}`
  const subscriber = await connectClient(broker.url)
  await subscriber.subscribeAsync(topic, { qos: 1 })
  const received = collect(subscriber)
  const publisher = await connectClient(broker.url)
  await publisher.publishAsync(topic, 'still serving', { qos: 1 })
  await eventually(() => received.length === 1, 'a message through the broker afterwards')
  assert.is(received[0]!.payload, 'still serving')
}
