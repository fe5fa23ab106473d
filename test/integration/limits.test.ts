import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { closeAllClients, collect, connectClient, eventually } from '../helpers/mqtt-clients.js'
import { RawClient } from '../helpers/raw-client.js'
import { startBroker, type TestBroker } from '../helpers/test-broker.js'

const test = suite<{ broker?: TestBroker }>('limits and slow consumers')

test.after.each(async context => {
  RawClient.closeAll()
  await closeAllClients()
  await context.broker?.close()
})

test('a packet over max-packet-size is refused from its header, before its body arrives', async context => {
  const broker = context.broker = await startBroker({ maxPacketSize: 1024 })
  const client = await RawClient.connect(broker.port)
  await client.handshake({ clientId: 'big' })
  // PUBLISH announcing 10 MB (remaining length 0x989680), then only a few body bytes.
  client.sendBytes([0x30, 0x80, 0xad, 0xe2, 0x04, 0x00, 0x01, 0x74])
  assert.ok(await client.closesWithin(2000), 'closed without waiting for the 10 MB body')
  assert.ok(broker.logs.some(line => line.reason === 'packet-too-large'), 'the log says why')
  assert.is(broker.broker.counters.limited['max-packet-size'], 1, 'counted against the limit')
  assert.ok(broker.logs.some(line => line.limit === 'max-packet-size' && line.clientId === 'big'), 'and reported with the client id')
})

test('a whole packet over max-packet-size closes the connection and publishes the will', async context => {
  const broker = context.broker = await startBroker({ maxPacketSize: 1024 })
  const watcher = await connectClient(broker.url)
  await watcher.subscribeAsync('wills/#')
  const wills = collect(watcher)
  const client = await connectClient(broker.url, { clientId: 'oversized', will: { topic: 'wills/oversized', payload: Buffer.from('gone'), qos: 0, retain: false } })
  client.on('error', () => {})
  client.publish('t', Buffer.alloc(2000))
  await eventually(() => wills.length === 1, 'the will of the client that sent too much')
  const small = await connectClient(broker.url)
  await small.publishAsync('t', Buffer.alloc(900), { qos: 1 })
})

test('QoS 0 to a subscriber that stopped reading is dropped and counted, not buffered without bound', async context => {
  const broker = context.broker = await startBroker()
  const slow = await RawClient.connect(broker.port)
  await slow.handshake({ clientId: 'slow' })
  slow.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'flood', qos: 0 }] })
  await slow.next('suback')
  slow.pause()
  const publisher = await connectClient(broker.url)
  const payload = Buffer.alloc(4096)
  const total = 8000 // 32 MB in all
  for (let i = 0; i < total; i++) {
    publisher.publish('flood', payload)
    if (i % 500 === 0) await new Promise(resolve => setImmediate(resolve))
  }
  await eventually(() => broker.broker.counters.messagesReceived === total, 'the broker to take every publish', 20000)
  const dropped = broker.broker.counters.dropped.backpressure
  assert.ok(dropped > 0, 'messages to the stalled subscriber were dropped')
  const sentBytes = (total - dropped) * payload.length
  assert.ok(sentBytes < 16 * 1024 * 1024, `at most a bounded amount was written for the stalled client (${sentBytes} bytes)`)
  // The publisher and other clients are unaffected.
  const other = await connectClient(broker.url)
  await other.subscribeAsync('after')
  const received = collect(other)
  await publisher.publishAsync('after', 'still flowing', { qos: 1 })
  await eventually(() => received.length === 1, 'delivery to a healthy client')
})

test('QoS 1 to a subscriber that never acknowledges fills the inflight window, then the bounded queue, then drops', async context => {
  const broker = context.broker = await startBroker({ maxInflight: 5, maxQueued: 20 })
  const stuck = await RawClient.connect(broker.port)
  await stuck.handshake({ clientId: 'stuck' })
  stuck.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'work', qos: 1 }] })
  await stuck.next('suback')
  const publisher = await connectClient(broker.url)
  for (let i = 0; i < 100; i++) await publisher.publishAsync('work', String(i), { qos: 1 })
  const session = broker.broker.sessions.get('stuck')!
  assert.is(session.inflight.size, 5)
  assert.is(session.queue.length, 20)
  assert.is(broker.broker.counters.dropped['queue-full'], 75)
  assert.is(broker.broker.counters.limited['max-queued'], 75)
  assert.ok(broker.logs.some(line => line.msg.includes('queue full') && line.clientId === 'stuck'), 'the drop is logged')
  // Acknowledging frees the window and the queue drains, in order.
  const first = await stuck.next('publish')
  assert.is(first.payload.toString(), '0')
  stuck.send({ cmd: 'puback', messageId: first.messageId! })
  await eventually(() => session.queue.length === 19, 'one queued message to move into the window')
})

test.run()
