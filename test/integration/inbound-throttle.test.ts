import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { closeAllClients, connectClient, eventually } from '../helpers/mqtt-clients.js'
import { RawClient } from '../helpers/raw-client.js'
import { startBroker, type TestBroker } from '../helpers/test-broker.js'

/**
 * max-message-rate and max-bandwidth slow a fast publisher down by reading its socket no
 * faster than its budget allows (backpressure, as EMQX does): it is not disconnected and
 * nothing it sent is lost. Budgets refill at the configured rate, with a burst of one
 * second's worth, so by one second after publishing began the broker can have passed on at
 * most about twice the rate; the assertions allow half as much again.
 */
const test = suite<{ broker?: TestBroker }>('inbound throttle')

test.after.each(async context => {
  RawClient.closeAll()
  await closeAllClients()
  await context.broker?.close()
})

/** Subscribes to `topic` and records when each message arrives. */
async function arrivals (broker: TestBroker, topic: string): Promise<Array<{ readonly at: number, readonly payload: string }>> {
  const subscriber = await connectClient(broker.url, { clientId: `watch-${topic}` })
  await subscriber.subscribeAsync(topic, { qos: 1 })
  const seen: Array<{ at: number, payload: string }> = []
  subscriber.on('message', (_topic, payload) => seen.push({ at: performance.now(), payload: payload.toString() }))
  return seen
}

test('max-message-rate: a publisher sending faster is slowed to the rate, stays connected, and every message arrives in order', async context => {
  const RATE = 50
  const TOTAL = 250
  const broker = context.broker = await startBroker({ maxMessageRate: RATE })
  const seen = await arrivals(broker, 'rate')
  const publisher = await connectClient(broker.url, { clientId: 'fast' })
  const started = performance.now()
  const acknowledged = Promise.all(Array.from({ length: TOTAL }, async (_, index) => await publisher.publishAsync('rate', String(index), { qos: 1 })))
  await eventually(() => seen.length === TOTAL, 'every message', 30_000)
  await acknowledged
  const inFirstSecond = seen.filter(arrival => arrival.at - started <= 1000).length
  assert.ok(inFirstSecond < RATE * 3, `at most about ${RATE * 2} in the first second (got ${inFirstSecond} of ${TOTAL})`)
  assert.equal(seen.map(arrival => arrival.payload), Array.from({ length: TOTAL }, (_, index) => String(index)), 'nothing lost, nothing reordered')
  assert.ok(publisher.connected, 'the publisher was slowed, not disconnected')
  assert.ok(broker.broker.counters.limited['max-message-rate'] > 0, 'the throttling is counted')
  assert.is(broker.broker.counters.dropped.backpressure + broker.broker.counters.dropped['queue-full'], 0)
  // At most one line per 10 s, however many times the publisher was held back.
  const lines = broker.logs.filter(line => line.limit === 'max-message-rate')
  const mostLines = Math.ceil((performance.now() - started) / 10_000)
  assert.ok(lines.length >= 1 && lines.length <= mostLines && lines[0]!.clientId === 'fast', `1 to ${mostLines} lines naming the client for ${broker.broker.counters.limited['max-message-rate']} pauses (got ${lines.length})`)
})

test('max-bandwidth: QoS 0 from a publisher sending faster is slowed to the byte rate and none of it is lost', async context => {
  const BANDWIDTH = 20_000
  const TOTAL = 100
  const broker = context.broker = await startBroker({ maxBandwidth: BANDWIDTH })
  const seen = await arrivals(broker, 'bytes')
  const publisher = await connectClient(broker.url, { clientId: 'bulky' })
  const started = performance.now()
  for (let index = 0; index < TOTAL; index++) publisher.publish('bytes', `${index}:`.padEnd(1000, '.'), { qos: 0 })
  await eventually(() => seen.length === TOTAL, 'every message', 30_000)
  const inFirstSecond = seen.filter(arrival => arrival.at - started <= 1000).length
  // About 20 packets of 1 kB a second, and 20 more in the first burst.
  assert.ok(inFirstSecond < 60, `at most about 40 in the first second (got ${inFirstSecond} of ${TOTAL})`)
  assert.equal(seen.map(arrival => arrival.payload.split(':')[0]), Array.from({ length: TOTAL }, (_, index) => String(index)), 'nothing lost, nothing reordered')
  assert.ok(broker.broker.counters.limited['max-bandwidth'] > 0)
})

test('[MQTT-3.1.2-24] a client the broker holds back is not cut off for the silence it did not cause', async context => {
  // 1000 bytes a second: a 5000-byte PUBLISH leaves the budget 4 s in debt, longer than the
  // 3 s this client's keep-alive of 2 s allows between packets.
  const broker = context.broker = await startBroker({ maxBandwidth: 1000 })
  const client = await RawClient.connect(broker.port)
  await client.handshake({ clientId: 'held-back', keepalive: 2 })
  client.send({ cmd: 'publish', topic: 'big', payload: Buffer.alloc(5000, 0x61), qos: 1, messageId: 1, retain: false, dup: false })
  client.send({ cmd: 'publish', topic: 'small', payload: Buffer.from('after'), qos: 1, messageId: 2, retain: false, dup: false })
  assert.is((await client.next('puback', 10_000)).messageId, 1)
  assert.is((await client.next('puback', 15_000)).messageId, 2, 'the second PUBLISH is answered once the budget allows it')
  assert.not.ok(client.connectionClosed, 'still connected')
  assert.not.ok(broker.logs.some(line => line.reason === 'keepalive-timeout'), 'no keep-alive timeout')
})

test.run()
