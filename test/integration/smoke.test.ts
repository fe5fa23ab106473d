import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { startBroker, type TestBroker } from '../helpers/test-broker.js'
import { closeAllClients, collect, connectClient, eventually } from '../helpers/mqtt-clients.js'

const test = suite<{ broker: TestBroker }>('smoke')

test.before.each(async context => { context.broker = await startBroker() })
test.after.each(async context => {
  await closeAllClients()
  await context.broker.close()
})

test('[MQTT-7.1.1-1] a QoS 0 message reaches a subscriber over a plain TCP connection', async ({ broker }) => {
  const subscriber = await connectClient(broker.url)
  await subscriber.subscribeAsync('sensors/+/temp')
  const received = collect(subscriber)
  const publisher = await connectClient(broker.url)
  await publisher.publishAsync('sensors/kitchen/temp', '21.5')
  await eventually(() => received.length === 1, 'the message')
  assert.is(received[0]!.topic, 'sensors/kitchen/temp')
  assert.is(received[0]!.payload, '21.5')
})

test.run()
