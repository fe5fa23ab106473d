import { fileURLToPath } from 'node:url'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { startBroker, type TestBroker } from '../helpers/test-broker.js'
import { killAll, spawnTracked, type TrackedProcess } from '../helpers/processes.js'

/**
 * Interoperability with Eclipse Paho's Python client (paho-mqtt 1.6.1 from Debian, importable
 * only by /usr/bin/python3). test/fixtures/paho_client.py is one Paho client per process,
 * driven by JSON commands on stdin and reporting JSON events on stdout.
 */

const test = suite<{ broker: TestBroker }>('third-party: paho-mqtt (Python)')

test.before.each(async context => { context.broker = await startBroker() })
test.after.each(async context => {
  await killAll()
  await context.broker.close()
})

const PYTHON = '/usr/bin/python3'
const FIXTURE = fileURLToPath(new URL('../fixtures/paho_client.py', import.meta.url))
const TIMEOUT_MS = 10_000

type Protocol = '3.1' | '3.1.1'

interface PahoEvent {
  readonly event: string
  readonly [field: string]: unknown
}

interface PahoMessage {
  readonly topic: string
  readonly payload: string
  readonly size: number
  readonly qos: number
  readonly retain: boolean
  readonly dup: boolean
}

interface ConnectOptions {
  readonly clientId?: string
  readonly clean?: boolean
  readonly protocol?: Protocol
  readonly will?: { readonly topic: string, readonly payload: string, readonly qos: number, readonly retain: boolean }
}

/** The test's side of one paho_client.py process. */
class Paho {
  private constructor (readonly process: TrackedProcess) {}

  static async start (broker: TestBroker): Promise<Paho> {
    const child = spawnTracked(PYTHON, ['-u', FIXTURE, '127.0.0.1', String(broker.port)], { stdin: true, env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } })
    const paho = new Paho(child)
    await paho.next(event => event.event === 'ready', 0, 'ready')
    return paho
  }

  /** Starts a client and connects it; resolves with its CONNACK. */
  static async connect (broker: TestBroker, options: ConnectOptions = {}): Promise<Paho> {
    const paho = await Paho.start(broker)
    await paho.connect(options)
    return paho
  }

  get events (): PahoEvent[] {
    return this.process.lines.map(line => JSON.parse(line) as PahoEvent)
  }

  get messages (): PahoMessage[] {
    return this.events.filter(event => event.event === 'message') as unknown as PahoMessage[]
  }

  async connect (options: ConnectOptions = {}): Promise<{ rc: number, sessionPresent: boolean }> {
    const from = this.send({
      op: 'connect',
      client_id: options.clientId ?? '',
      clean_session: options.clean ?? true,
      protocol: options.protocol ?? '3.1.1',
      ...(options.will === undefined ? {} : { will: options.will })
    })
    const connack = await this.next(event => event.event === 'connack', from, 'CONNACK')
    assert.is(connack.rc, 0, 'connection accepted')
    return { rc: Number(connack.rc), sessionPresent: connack.session_present === true }
  }

  /** SUBSCRIBE and its SUBACK; resolves with the granted QoS. */
  async subscribe (topic: string, qos: number): Promise<number[]> {
    const mid = await this.sent({ op: 'subscribe', topic, qos })
    const suback = await this.next(event => event.event === 'suback' && event.mid === mid.mid, mid.from, 'SUBACK')
    return suback.granted as number[]
  }

  async unsubscribe (topic: string): Promise<void> {
    const mid = await this.sent({ op: 'unsubscribe', topic })
    await this.next(event => event.event === 'unsuback' && event.mid === mid.mid, mid.from, 'UNSUBACK')
  }

  /** PUBLISH, resolved once Paho reports it done: sent (QoS 0), PUBACK (1) or PUBCOMP (2). */
  async publish (topic: string, payload: string, qos: number, retain = false): Promise<void> {
    const mid = await this.sent({ op: 'publish', topic, payload, qos, retain })
    await this.next(event => event.event === 'published' && event.mid === mid.mid, mid.from, `completion of PUBLISH ${topic}`)
  }

  async disconnect (): Promise<void> {
    const from = this.send({ op: 'disconnect' })
    await this.next(event => event.event === 'disconnected', from, 'on_disconnect')
  }

  /** Closes the socket under Paho: the broker sees the network connection lost, no DISCONNECT. */
  async drop (): Promise<void> {
    const from = this.send({ op: 'drop' })
    await this.next(event => event.event === 'dropped', from, 'the dropped socket')
  }

  async message (topic: string): Promise<PahoMessage> {
    return await this.process.waitFor(() => this.messages.find(message => message.topic === topic), `a message on ${topic}`, TIMEOUT_MS)
  }

  async exit (): Promise<void> {
    this.send({ op: 'exit' })
    const exit = await this.process.waitForExit(TIMEOUT_MS)
    assert.is(exit.code, 0, `paho_client.py exited with ${exit.code ?? exit.signal}\n${this.process.output()}`)
  }

  /** Writes a command; returns how many events there were before it, where its answers start. */
  private send (command: Record<string, unknown>): number {
    const from = this.events.length
    this.process.write(JSON.stringify(command))
    return from
  }

  private async sent (command: Record<string, unknown>): Promise<{ mid: unknown, from: number }> {
    const from = this.send(command)
    const sent = await this.next(event => event.event === 'sent' && event.op === command.op, from, `${String(command.op)} to be sent`)
    assert.is(sent.rc, 0, `${String(command.op)} queued by paho`)
    return { mid: sent.mid, from }
  }

  /** The first event after `from` matching `predicate`; fails at once on an error event. */
  private async next (predicate: (event: PahoEvent) => boolean, from: number, what: string): Promise<PahoEvent> {
    return await this.process.waitFor(() => {
      const events = this.events.slice(from)
      const error = events.find(event => event.event === 'error')
      if (error !== undefined) throw new Error(`paho_client.py: ${String(error.message)}\n${this.process.output()}`)
      return events.find(predicate)
    }, what, TIMEOUT_MS)
  }
}

for (const protocol of ['3.1', '3.1.1'] as const) {
  for (const qos of [0, 1, 2]) {
    test(`MQTT ${protocol} QoS ${qos}: Paho publisher to Paho subscriber round trip`, async ({ broker }) => {
      const topic = `paho/roundtrip/${protocol}/q${qos}`
      const subscriber = await Paho.connect(broker, { protocol })
      assert.equal(await subscriber.subscribe(topic, 2), [2])
      const publisher = await Paho.connect(broker, { protocol })
      await publisher.publish(topic, `payload at ${qos}`, qos)
      const message = await subscriber.message(topic)
      assert.equal(message, { event: 'message', topic, payload: `payload at ${qos}`, size: 12, qos, retain: false, dup: false })
      await publisher.disconnect()
      await subscriber.disconnect()
      await publisher.exit()
      await subscriber.exit()
    })
  }
}

test('[MQTT-3.8.4-6] Paho receives the lower of the published QoS and its granted QoS', async ({ broker }) => {
  const atMostOnce = await Paho.connect(broker)
  const atLeastOnce = await Paho.connect(broker, { protocol: '3.1' })
  assert.equal(await atMostOnce.subscribe('paho/downgrade', 0), [0])
  assert.equal(await atLeastOnce.subscribe('paho/downgrade', 1), [1])
  const publisher = await Paho.connect(broker)
  await publisher.publish('paho/downgrade', 'exactly once', 2)
  assert.is((await atMostOnce.message('paho/downgrade')).qos, 0)
  assert.is((await atLeastOnce.message('paho/downgrade')).qos, 1)
})

test('[MQTT-3.3.1-6][MQTT-3.3.1-8][MQTT-3.3.1-10] a retained message reaches later Paho subscribers flagged retained until an empty one clears it', async ({ broker }) => {
  const publisher = await Paho.connect(broker)
  await publisher.publish('paho/retained/lamp', 'on', 1, true)

  const later = await Paho.connect(broker, { protocol: '3.1' })
  await later.subscribe('paho/retained/+', 1)
  assert.equal(await later.message('paho/retained/lamp'), { event: 'message', topic: 'paho/retained/lamp', payload: 'on', size: 2, qos: 1, retain: true, dup: false })

  await publisher.publish('paho/retained/lamp', '', 1, true)
  // Forwarded to the existing subscription as an ordinary, non-retained message [MQTT-3.3.1-9].
  await later.process.waitFor(() => later.messages.find(message => message.size === 0), 'the empty message', TIMEOUT_MS)
  assert.equal(later.messages.map(message => [message.payload, message.retain]), [['on', true], ['', false]])

  // Retained messages come with the SUBACK, before a later message: once that is here, none came.
  const afterClear = await Paho.connect(broker)
  await afterClear.subscribe('paho/retained/+', 1)
  await publisher.publish('paho/retained/end', 'end', 1)
  await afterClear.message('paho/retained/end')
  assert.equal(afterClear.messages.map(message => message.topic), ['paho/retained/end'])
})

for (const protocol of ['3.1', '3.1.1'] as const) {
  test(`MQTT ${protocol} [MQTT-3.1.2-4][MQTT-3.1.2-5][MQTT-3.2.2-2] a persistent Paho session gets the QoS 1 messages queued while it was offline, without subscribing again`, async ({ broker }) => {
    const clientId = `pahoPersist${protocol.replaceAll('.', '')}`
    const client = await Paho.start(broker)
    await client.connect({ clientId, clean: false, protocol })
    await client.subscribe('paho/persist/#', 1)
    await client.disconnect()

    const publisher = await Paho.connect(broker, { protocol })
    for (const n of [1, 2, 3]) await publisher.publish(`paho/persist/${n}`, `queued ${n}`, 1)

    const back = await client.connect({ clientId, clean: false, protocol })
    // 3.1 has no Session Present flag; its CONNACK byte is reserved and zero.
    if (protocol === '3.1.1') assert.ok(back.sessionPresent, 'Session Present')
    await client.message('paho/persist/3')
    assert.equal(client.messages.map(message => `${message.topic} ${message.payload} qos=${message.qos}`), [
      'paho/persist/1 queued 1 qos=1',
      'paho/persist/2 queued 2 qos=1',
      'paho/persist/3 queued 3 qos=1'
    ])
  })
}

test('[MQTT-3.1.2-6][MQTT-3.2.2-1][MQTT-3.2.2-3] a clean Paho session discards the stored one', async ({ broker }) => {
  const client = await Paho.start(broker)
  const first = await client.connect({ clientId: 'pahoClean', clean: false })
  assert.is(first.sessionPresent, false, 'no session stored yet')
  await client.subscribe('paho/clean/#', 1)
  await client.disconnect()
  assert.is((await client.connect({ clientId: 'pahoClean', clean: true })).sessionPresent, false, 'a clean session never has one')
  await client.disconnect()
  assert.is((await client.connect({ clientId: 'pahoClean', clean: false })).sessionPresent, false, 'the clean session discarded it')
})

test('[MQTT-3.1.2-8] the will of a Paho client whose socket is closed without DISCONNECT is published', async ({ broker }) => {
  const watcher = await Paho.connect(broker)
  await watcher.subscribe('paho/wills/#', 2)
  const victim = await Paho.connect(broker, { will: { topic: 'paho/wills/dropped', payload: 'lost', qos: 1, retain: false } })
  await victim.drop()
  assert.equal(await watcher.message('paho/wills/dropped'), { event: 'message', topic: 'paho/wills/dropped', payload: 'lost', size: 4, qos: 1, retain: false, dup: false })
})

test('[MQTT-3.1.2-8][MQTT-3.1.2-17] the retained will of a killed Paho process is published and retained', async ({ broker }) => {
  const watcher = await Paho.connect(broker)
  await watcher.subscribe('paho/wills/#', 1)
  const victim = await Paho.connect(broker, { protocol: '3.1', will: { topic: 'paho/wills/killed', payload: 'killed', qos: 1, retain: true } })
  victim.process.kill('SIGKILL')
  assert.is((await watcher.message('paho/wills/killed')).payload, 'killed')
  const later = await Paho.connect(broker)
  await later.subscribe('paho/wills/killed', 1)
  const retained = await later.message('paho/wills/killed')
  assert.is(retained.retain, true)
  assert.is(retained.payload, 'killed')
})

test('[MQTT-3.14.4-3] a Paho client that disconnects cleanly does not publish its will', async ({ broker }) => {
  const watcher = await Paho.connect(broker)
  await watcher.subscribe('paho/wills/#', 1)
  const client = await Paho.connect(broker, { will: { topic: 'paho/wills/clean', payload: 'never', qos: 1, retain: false } })
  await client.disconnect()
  await client.exit()
  const publisher = await Paho.connect(broker)
  await publisher.publish('paho/wills/end', 'end', 1)
  await watcher.message('paho/wills/end')
  assert.equal(watcher.messages.map(message => message.topic), ['paho/wills/end'])
})

test('[MQTT-3.10.4-2][MQTT-3.10.4-4] after UNSUBSCRIBE a Paho client gets no more messages on that filter', async ({ broker }) => {
  const subscriber = await Paho.connect(broker)
  await subscriber.subscribe('paho/unsub/a', 1)
  await subscriber.subscribe('paho/unsub/end', 1)
  const publisher = await Paho.connect(broker)
  await publisher.publish('paho/unsub/a', 'before', 1)
  await subscriber.message('paho/unsub/a')
  await subscriber.unsubscribe('paho/unsub/a')
  await publisher.publish('paho/unsub/a', 'after', 1)
  // Same publisher, same order: when this one arrives, "after" would have.
  await publisher.publish('paho/unsub/end', 'end', 1)
  await subscriber.message('paho/unsub/end')
  assert.equal(subscriber.messages.map(message => `${message.topic} ${message.payload}`), ['paho/unsub/a before', 'paho/unsub/end end'])
})

test.run()
