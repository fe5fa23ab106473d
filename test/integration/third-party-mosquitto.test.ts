import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { startBroker, type TestBroker } from '../helpers/test-broker.js'
import { killAll, run, spawnTracked, type RunResult, type TrackedProcess } from '../helpers/processes.js'

/**
 * Interoperability with Eclipse Mosquitto's command-line clients (mosquitto_pub and
 * mosquitto_sub 2.0): an in-process broker, real client processes talking to it over TCP.
 * Subscribers run with -d so the test can wait for their SUBACK instead of sleeping, and
 * print each message as one `MSG|retain|qos|topic|length|payload` line.
 */

const test = suite<{ broker: TestBroker }>('third-party: mosquitto_pub / mosquitto_sub')

test.before.each(async context => { context.broker = await startBroker() })
test.after.each(async context => {
  await killAll()
  await context.broker.close()
})

type Version = 'mqttv31' | 'mqttv311' | 'mqttv5'

interface Message {
  readonly retain: boolean
  readonly qos: number
  readonly topic: string
  readonly length: number
  readonly payload: string
}

const FORMAT = 'MSG|%r|%q|%t|%l|%p'
const TIMEOUT_MS = 10_000

function endpoint (broker: TestBroker): string[] {
  return ['-h', '127.0.0.1', '-p', String(broker.port)]
}

/**
 * Starts a mosquitto_sub with debug output and the test's message format. Its stdout is a
 * pipe, which libc would block-buffer; stdbuf -oL makes it line-buffered so each line can be
 * waited for as it happens.
 */
function subscriber (broker: TestBroker, args: string[]): TrackedProcess {
  return spawnTracked('stdbuf', ['-oL', 'mosquitto_sub', ...endpoint(broker), '-d', '-F', FORMAT, ...args])
}

/** Resolves once the subscriber printed its SUBACK, so publishing now cannot race the SUBSCRIBE. */
async function subscribed (sub: TrackedProcess): Promise<void> {
  await sub.waitForLine(line => line.startsWith('Subscribed (mid:'), TIMEOUT_MS)
}

function messages (sub: TrackedProcess): Message[] {
  return sub.lines.filter(line => line.startsWith('MSG|')).map(line => {
    const [, retain, qos, topic, length, ...payload] = line.split('|')
    return { retain: retain === '1', qos: Number(qos), topic: topic!, length: Number(length), payload: payload.join('|') }
  })
}

async function messageOn (sub: TrackedProcess, topic: string): Promise<Message> {
  return await sub.waitFor(() => messages(sub).find(message => message.topic === topic), `a message on ${topic}`, TIMEOUT_MS)
}

/** Runs mosquitto_pub with debug output and checks it succeeded. */
async function publish (broker: TestBroker, args: string[], input?: string): Promise<RunResult> {
  const result = await run('mosquitto_pub', [...endpoint(broker), '-d', ...args], { timeoutMs: TIMEOUT_MS, ...(input === undefined ? {} : { input }) })
  assert.is(result.code, 0, `mosquitto_pub ${args.join(' ')} failed:\n${result.stdout}${result.stderr}`)
  return result
}

async function finished (sub: TrackedProcess): Promise<void> {
  const exit = await sub.waitForExit(TIMEOUT_MS)
  assert.is(exit.code, 0, `mosquitto_sub exited with ${exit.code ?? exit.signal}\n${sub.output()}`)
}

// Both 3.x protocol levels at every QoS, end to end, with the acknowledgement flow seen by each side.
for (const version of ['mqttv31', 'mqttv311'] as const) {
  for (const qos of [0, 1, 2]) {
    test(`[MQTT-7.0.0-2] ${version} QoS ${qos}: mosquitto_pub to mosquitto_sub round trip, no extensions needed`, async ({ broker }) => {
      const topic = `roundtrip/${version}/q${qos}`
      const sub = subscriber(broker, ['-V', version, '-q', String(qos), '-t', topic, '-C', '1'])
      await subscribed(sub)
      assert.ok(sub.stdout.includes(`Subscribed (mid: 1): ${qos}`), `granted QoS ${qos}\n${sub.output()}`)
      const pub = await publish(broker, ['-V', version, '-q', String(qos), '-t', topic, '-m', `hello at ${qos}`])
      await finished(sub)
      assert.equal(messages(sub), [{ retain: false, qos, topic, length: 10, payload: `hello at ${qos}` }])
      if (qos === 1) assert.match(pub.stdout, /received PUBACK/)
      if (qos === 2) {
        assert.match(pub.stdout, /received PUBREC[\s\S]*sending PUBREL[\s\S]*received PUBCOMP/)
        assert.match(sub.stdout, /sending PUBREC[\s\S]*received PUBREL[\s\S]*sending PUBCOMP/)
      }
    })
  }
}

test('mqttv5 QoS 2: mosquitto_pub to mosquitto_sub round trip', async ({ broker }) => {
  const topic = 'roundtrip/mqttv5/q2'
  const sub = subscriber(broker, ['-V', 'mqttv5', '-q', '2', '-t', topic, '-C', '1'])
  await subscribed(sub)
  const pub = await publish(broker, ['-V', 'mqttv5', '-q', '2', '-t', topic, '-m', 'hello v5'])
  await finished(sub)
  assert.equal(messages(sub), [{ retain: false, qos: 2, topic, length: 8, payload: 'hello v5' }])
  assert.match(pub.stdout, /received PUBCOMP/)
})

test('a 3.1 publisher reaches a 3.1.1 subscriber, and [MQTT-3.8.4-6] delivery QoS is the lower of published and granted', async ({ broker }) => {
  const atMostOnce = subscriber(broker, ['-V', 'mqttv311', '-q', '0', '-t', 'mixed/t', '-C', '1'])
  const atLeastOnce = subscriber(broker, ['-V', 'mqttv311', '-q', '1', '-t', 'mixed/t', '-C', '1'])
  await subscribed(atMostOnce)
  await subscribed(atLeastOnce)
  await publish(broker, ['-V', 'mqttv31', '-q', '2', '-t', 'mixed/t', '-m', 'downgraded'])
  await finished(atMostOnce)
  await finished(atLeastOnce)
  assert.is(messages(atMostOnce)[0]?.qos, 0)
  assert.is(messages(atLeastOnce)[0]?.qos, 1)
  assert.is(messages(atLeastOnce)[0]?.payload, 'downgraded')
})

test('a 200 kB payload from stdin (-s) arrives whole', async ({ broker }) => {
  const payload = 'x'.repeat(200_000)
  const sub = subscriber(broker, ['-q', '1', '-t', 'big/t', '-C', '1'])
  await subscribed(sub)
  await publish(broker, ['-q', '1', '-t', 'big/t', '-s'], payload)
  await finished(sub)
  const [message] = messages(sub)
  assert.is(message?.length, payload.length)
  assert.ok(message?.payload === payload, 'the payload arrived unchanged')
})

test('wildcard subscriptions: + matches one level, # matches the parent and every level below', async ({ broker }) => {
  const single = subscriber(broker, ['-q', '1', '-t', 'home/+/temp'])
  const multi = subscriber(broker, ['-q', '1', '-t', 'home/#'])
  await subscribed(single)
  await subscribed(multi)
  for (const topic of ['home/kitchen/temp', 'home/kitchen/humidity', 'home', 'office/kitchen/temp', 'home/garden/shed/temp', 'homes/x/temp']) {
    await publish(broker, ['-q', '1', '-t', topic, '-m', topic])
  }
  // Sent last by the same sequence of publishers: once it arrives, everything before it has.
  await publish(broker, ['-q', '1', '-t', 'home/end/temp', '-m', 'end'])
  await messageOn(single, 'home/end/temp')
  await messageOn(multi, 'home/end/temp')
  assert.equal(messages(single).map(m => m.topic), ['home/kitchen/temp', 'home/end/temp'])
  assert.equal(messages(multi).map(m => m.topic), ['home/kitchen/temp', 'home/kitchen/humidity', 'home', 'home/garden/shed/temp', 'home/end/temp'])
})

test('[MQTT-3.3.1-5][MQTT-3.3.1-8][MQTT-3.3.1-9] a retained message reaches a later subscriber with the retain flag, a live one without', async ({ broker }) => {
  const live = subscriber(broker, ['-q', '1', '-t', 'retained/lamp', '-C', '1'])
  await subscribed(live)
  await publish(broker, ['-q', '1', '-r', '-t', 'retained/lamp', '-m', 'on'])
  await finished(live)
  assert.equal(messages(live), [{ retain: false, qos: 1, topic: 'retained/lamp', length: 2, payload: 'on' }])

  for (const version of ['mqttv31', 'mqttv311'] satisfies Version[]) {
    const later = subscriber(broker, ['-V', version, '-q', '1', '-t', 'retained/+', '-C', '1'])
    await finished(later)
    assert.equal(messages(later), [{ retain: true, qos: 1, topic: 'retained/lamp', length: 2, payload: 'on' }], version)
  }
})

test('[MQTT-3.3.1-10][MQTT-3.3.1-11] an empty retained payload (-r -n) is forwarded and clears the retained message', async ({ broker }) => {
  await publish(broker, ['-q', '1', '-r', '-t', 'clear/lamp', '-m', 'on'])
  await publish(broker, ['-q', '1', '-r', '-t', 'clear/other', '-m', 'stays'])

  const live = subscriber(broker, ['-q', '1', '-t', 'clear/lamp', '-R'])
  await subscribed(live)
  await publish(broker, ['-q', '1', '-r', '-n', '-t', 'clear/lamp'])
  const forwarded = await messageOn(live, 'clear/lamp')
  assert.equal(forwarded, { retain: false, qos: 1, topic: 'clear/lamp', length: 0, payload: '' })

  // Retained messages are sent on SUBSCRIBE, before the later sentinel: once it is here, any would be.
  const later = subscriber(broker, ['-q', '1', '-t', 'clear/#'])
  await subscribed(later)
  await publish(broker, ['-q', '1', '-t', 'clear/end', '-m', 'end'])
  await messageOn(later, 'clear/end')
  assert.equal(messages(later).map(m => `${m.topic}=${m.payload} retain=${m.retain}`), ['clear/other=stays retain=true', 'clear/end=end retain=false'])
})

for (const version of ['mqttv31', 'mqttv311'] as const) {
  test(`${version} [MQTT-3.1.2-4][MQTT-3.1.2-5] a persistent mosquitto_sub session (-c -i) gets the QoS 1 messages published while it was offline`, async ({ broker }) => {
    const clientId = `persist-${version}`
    const args = ['-V', version, '-c', '-i', clientId, '-q', '1', '-t', 'persist/t']
    // -E: subscribe, then disconnect cleanly; the session stays.
    await finished(subscriber(broker, [...args, '-E']))

    for (const n of [1, 2, 3]) await publish(broker, ['-V', version, '-q', '1', '-t', 'persist/t', '-m', `queued ${n}`])

    const back = subscriber(broker, [...args, '-C', '3', '-W', '10'])
    await finished(back)
    assert.equal(messages(back).map(m => `${m.qos} ${m.payload}`), ['1 queued 1', '1 queued 2', '1 queued 3'])
    const connects = broker.logs.filter(line => line.msg === 'client connected' && line.clientId === clientId)
    assert.equal(connects.map(line => line.sessionPresent), [false, true])
  })
}

test('[MQTT-3.1.2-8] the will of a mosquitto_sub killed with SIGKILL is published', async ({ broker }) => {
  const watcher = subscriber(broker, ['-q', '1', '-t', 'wills/#'])
  await subscribed(watcher)
  const victim = subscriber(broker, ['-q', '1', '-t', 'victim/in', '--will-topic', 'wills/victim', '--will-payload', 'gone', '--will-qos', '1'])
  await subscribed(victim)
  victim.kill('SIGKILL')
  const will = await messageOn(watcher, 'wills/victim')
  assert.equal(will, { retain: false, qos: 1, topic: 'wills/victim', length: 4, payload: 'gone' })
})

test('[MQTT-3.1.2-17] a will with --will-retain is published as a retained message', async ({ broker }) => {
  const watcher = subscriber(broker, ['-q', '1', '-t', 'wills/#'])
  await subscribed(watcher)
  const victim = subscriber(broker, ['-V', 'mqttv31', '-q', '1', '-t', 'victim/in', '--will-topic', 'wills/retained', '--will-payload', 'offline', '--will-qos', '1', '--will-retain'])
  await subscribed(victim)
  victim.kill('SIGKILL')
  await messageOn(watcher, 'wills/retained')
  const later = subscriber(broker, ['-q', '1', '-t', 'wills/retained', '-C', '1'])
  await finished(later)
  assert.equal(messages(later), [{ retain: true, qos: 1, topic: 'wills/retained', length: 7, payload: 'offline' }])
})

test('[MQTT-3.14.4-3] a mosquitto_sub that disconnects cleanly does not publish its will', async ({ broker }) => {
  const watcher = subscriber(broker, ['-q', '1', '-t', 'wills/#'])
  await subscribed(watcher)
  await finished(subscriber(broker, ['-q', '1', '-t', 'victim/in', '--will-topic', 'wills/clean', '--will-payload', 'gone', '-E']))
  await publish(broker, ['-q', '1', '-t', 'wills/end', '-m', 'end'])
  await messageOn(watcher, 'wills/end')
  assert.equal(messages(watcher).map(m => m.topic), ['wills/end'])
})

test.run()
