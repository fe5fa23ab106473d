import { runInNewContext } from 'node:vm'
import { setFlagsFromString } from 'node:v8'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { connectionRefusal } from '../helpers/connection-refusal.js'
import { collect, connectClient, eventually } from '../helpers/mqtt-clients.js'
import { rawV5 } from '../helpers/mqtt5-clients.js'
import { RawClient } from '../helpers/raw-client.js'
import { startBroker, type TestBroker } from '../helpers/test-broker.js'
import { closeTestClients } from '../helpers/broker-per-test.js'

/**
 * memory-watermark: above it the broker refuses new connections (MQTT 5 CONNACK 0x89 Server
 * busy, MQTT 3 return code 3) and sheds QoS 0 to clients that fell behind, instead of growing
 * until the process dies; the clients already in go on. The broker runs in this process, so
 * the second test makes its memory grow for real by filling a large buffer.
 */
const test = suite<{ broker?: TestBroker }>('memory watermark')

test.after.each(async context => {
  await closeTestClients()
  await context.broker?.close()
})

/** The V8 collector, to give memory back on purpose (the flag must be set before the first call). */
function collectGarbage (): void {
  setFlagsFromString('--expose-gc')
  const gc = runInNewContext('gc') as () => void
  gc()
}

test('[MQTT-3.2.2-7] above a tiny watermark every new client is refused: MQTT 5 with 0x89 Server busy, MQTT 3.1.1 with return code 3; entering overload is logged once', async context => {
  const broker = context.broker = await startBroker({ memoryWatermark: 1 })
  const { client, connack } = await rawV5(broker, { clientId: 'v5-late' })
  assert.is(connack.reasonCode, 0x89)
  assert.ok(await client.closesWithin(5000))
  const v3 = await RawClient.connect(broker.port)
  assert.is((await v3.handshake({ clientId: 'v3-late' })).returnCode, 3)
  assert.match(await connectionRefusal(broker.url, { protocolVersion: 5 }), 'Server busy')
  assert.is(broker.broker.counters.limited['memory-watermark'], 3)
  assert.is(broker.logs.filter(line => line.msg.startsWith('memory above memory-watermark')).length, 1)
})

test('as memory grows past the watermark: new clients are refused, QoS 0 to a stalled client is shed while a healthy one still gets it; once memory falls, clients get in again', async context => {
  const watermark = process.memoryUsage().rss + 256 * 1024 * 1024
  const broker = context.broker = await startBroker({ memoryWatermark: watermark })
  const stalled = await RawClient.connect(broker.port)
  await stalled.handshake({ clientId: 'stalled' })
  stalled.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'flood', qos: 0 }] })
  await stalled.next('suback')
  stalled.pause()
  const healthy = await connectClient(broker.url, { clientId: 'healthy' })
  await healthy.subscribeAsync('flood', { qos: 0 })
  const healthyReceived = collect(healthy)
  const publisher = await connectClient(broker.url, { clientId: 'publisher' })
  assert.not.ok(broker.broker.overloaded)

  let ballast: Buffer | undefined = Buffer.alloc(512 * 1024 * 1024, 1)
  await eventually(() => broker.broker.overloaded, 'the broker to notice its memory', 10_000)
  assert.ok(broker.logs.some(line => line.msg.startsWith('memory above memory-watermark') && line.watermark === watermark), 'entering overload is logged with the watermark')
  assert.match(await connectionRefusal(broker.url, { protocolVersion: 5 }), 'Server busy')

  // 8 MB of QoS 0 to both subscribers, in steps the healthy one can keep up with.
  const payload = Buffer.alloc(4096, 0x62)
  for (let index = 0; index < 2048; index++) {
    publisher.publish('flood', payload)
    if (index % 64 === 63) await publisher.publishAsync('pace', '', { qos: 1 })
  }
  await publisher.publishAsync('pace', '', { qos: 1 })
  await eventually(() => broker.broker.counters.messagesReceived >= 2048, 'the broker to take every publish')
  const shed = broker.broker.counters.dropped.backpressure
  assert.ok(shed > 0, 'QoS 0 to the stalled client was shed')
  assert.is(broker.broker.counters.limited['memory-watermark'], 1 + shed, 'each shed message and the refusal are counted against the watermark')
  await eventually(() => healthyReceived.length === 2048, 'every message to the client that keeps up', 20_000)

  ballast.fill(0)
  ballast = undefined
  collectGarbage()
  await eventually(() => !broker.broker.overloaded, 'memory to fall under the watermark', 10_000)
  assert.ok(broker.logs.some(line => line.msg.startsWith('memory back under memory-watermark')), 'leaving overload is logged')
  const late = await connectClient(broker.url, { clientId: 'late' })
  assert.ok(late.connected, 'new clients get in again')
})

test.run()
