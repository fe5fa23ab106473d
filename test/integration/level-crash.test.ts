import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import mqtt, { type MqttClient } from 'mqtt'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { closeAllClients, connectClient, eventually, quietFor } from '../helpers/mqtt-clients.js'
import { killAll, startCliBroker, type CliBroker } from '../helpers/processes.js'

/**
 * The durability promise of `--storage level`, tested the hard way: a real broker process
 * under a QoS 1 and QoS 2 publish load is killed with SIGKILL at several moments, restarted on
 * the same data directory, and every message it acknowledged must reach its durable
 * subscribers, QoS 2 ones exactly once.
 */

const test = suite<{ dir: string }>('LevelDB persistence: kill -9 under load, then restart')

test.before.each(context => {
  context.dir = mkdtempSync(join(tmpdir(), 'troupe-crash-'))
})
test.after.each(async context => {
  await closeAllClients()
  await killAll()
  rmSync(context.dir, { recursive: true, force: true })
})

const urlOf = (broker: CliBroker): string => `mqtt://127.0.0.1:${broker.port}`

async function startLevelBroker (dir: string): Promise<CliBroker> {
  return await startCliBroker(['--storage', 'level', '--data-dir', dir, '--durability', 'os', '--max-queued', '100000'])
}

/** Everything a subscriber received, by QoS of the topic: payload ids in arrival order. */
function record (client: MqttClient, into: { 1: number[], 2: number[] }): void {
  client.on('message', (topic, payload) => {
    const qos = topic.endsWith('/2') ? 2 : 1
    into[qos].push(Number(payload.toString()))
  })
}

for (const killAfterMs of [150, 500, 1200]) {
  test(`a kill -9 ${killAfterMs} ms into the load loses no acknowledged message, and delivers QoS 2 once`, async ({ dir }) => {
    let broker = await startLevelBroker(dir)
    // A durable subscriber that is offline through the whole load: everything waits in its queue.
    const offline = await connectClient(urlOf(broker), { clientId: 'offline', clean: false })
    await offline.subscribeAsync('load/#', { qos: 2 })
    await offline.endAsync()
    // A durable subscriber that is online when the broker dies: messages are in its inflight window.
    const onlineStores = { incomingStore: new mqtt.Store(), outgoingStore: new mqtt.Store() }
    const onlineReceived = { 1: [] as number[], 2: [] as number[] }
    const online = await connectClient(urlOf(broker), { clientId: 'online', clean: false, ...onlineStores })
    record(online, onlineReceived)
    await online.subscribeAsync('load/#', { qos: 2 })

    const publisher = await connectClient(urlOf(broker), { clientId: 'publisher', reconnectPeriod: 0 })
    const acknowledged = { 1: new Set<number>(), 2: new Set<number>() }
    let next = 0
    let stopped = false
    const publishing = (async () => {
      while (!stopped) {
        for (let i = 0; i < 20 && !stopped; i++) {
          const id = next++
          const qos = id % 2 === 0 ? 2 : 1
          // The callback runs on PUBACK (QoS 1) or PUBCOMP (QoS 2): the broker took the message.
          publisher.publish(`load/${qos}`, String(id), { qos }, error => { if (error == null) acknowledged[qos].add(id) })
        }
        await sleep(1)
      }
    })()
    await sleep(killAfterMs)
    broker.process.child.kill('SIGKILL')
    await broker.process.exited
    stopped = true
    await publishing
    publisher.end(true)
    // `online` lost its socket with the broker; ending it would close the stores its successor reuses.
    assert.ok(acknowledged[1].size + acknowledged[2].size > 0, 'the broker acknowledged messages before it was killed')

    broker = await startLevelBroker(dir)
    const offlineReceived = { 1: [] as number[], 2: [] as number[] }
    await connectClient(urlOf(broker), { clientId: 'offline', clean: false }, client => record(client, offlineReceived))
    await connectClient(urlOf(broker), { clientId: 'online', clean: false, ...onlineStores }, client => record(client, onlineReceived))
    for (const [name, received] of [['offline', offlineReceived], ['online', onlineReceived]] as const) {
      for (const qos of [1, 2] as const) {
        await eventually(() => [...acknowledged[qos]].every(id => received[qos].includes(id)),
          `${name} to receive all ${acknowledged[qos].size} acknowledged QoS ${qos} messages (has ${new Set(received[qos]).size})`, 15_000)
      }
    }
    await quietFor(300)
    for (const [name, received] of [['offline', offlineReceived], ['online', onlineReceived]] as const) {
      const duplicates = received[2].filter((id, index) => received[2].indexOf(id) !== index)
      assert.equal(duplicates, [], `${name} got QoS 2 messages more than once`)
    }
  })
}

test('sessions, subscriptions and retained messages are back after a kill -9', async ({ dir }) => {
  let broker = await startLevelBroker(dir)
  const subscriber = await connectClient(urlOf(broker), { clientId: 'keeper', clean: false })
  await subscriber.subscribeAsync('kept/+', { qos: 1 })
  await subscriber.endAsync()
  const publisher = await connectClient(urlOf(broker), { clientId: 'retainer' })
  await publisher.publishAsync('kept/retained', 'still here', { qos: 1, retain: true })
  await publisher.endAsync()
  broker.process.child.kill('SIGKILL')
  await broker.process.exited

  broker = await startLevelBroker(dir)
  const received: string[] = []
  await connectClient(urlOf(broker), { clientId: 'keeper', clean: false }, client => client.on('message', (topic, payload) => received.push(`${topic}=${payload.toString()}`)))
  const another = await connectClient(urlOf(broker), { clientId: 'later' })
  await another.publishAsync('kept/live', 'routed by the restored subscription', { qos: 1 })
  await eventually(() => received.includes('kept/live=routed by the restored subscription'), 'the restored subscription to route a new message')
  const fresh = await connectClient(urlOf(broker), { clientId: 'fresh' })
  const retained: string[] = []
  fresh.on('message', (topic, payload) => retained.push(`${topic}=${payload.toString()}`))
  await fresh.subscribeAsync('kept/#', { qos: 1 })
  await eventually(() => retained.includes('kept/retained=still here'), 'the retained message to be back')
})

test.run()
