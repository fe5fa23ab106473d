import { performance } from 'node:perf_hooks'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { TrafficCounters } from '../../actors/connection/broker-services.js'
import { createTrafficCounters } from '../../runtime/metrics/traffic-counters.js'
import { TrafficHistory, type TrafficSample } from '../../runtime/metrics/traffic-history.js'
import { eventually } from '../helpers/mqtt-clients.js'

/**
 * The hour of one-second traffic samples behind the monitor's charts and $SYS load topics:
 * rates per second from the deltas of the broker's plain counters, a ring of the last 3600,
 * read oldest first, and a feed of each new sample.
 */

const test = suite('traffic history')

const CAPACITY = 3600

async function pause (ms: number): Promise<void> {
  await new Promise(resolve => setTimeout(resolve, ms))
}

/**
 * A history whose elapsed time between construction and the first sample is bracketed: the
 * history reads the clock itself, so the test knows only the shortest and longest it can be.
 */
interface Bracketed {
  readonly history: TrafficHistory
  readonly counters: TrafficCounters
  /** Takes a sample and returns it with the shortest and longest seconds it can cover. */
  sample (): { sample: TrafficSample, shortest: number, longest: number }
}

function bracketed (connections = (): number => 0): Bracketed {
  const counters = createTrafficCounters()
  let startEarliest = performance.now()
  const history = new TrafficHistory(counters, connections)
  let startLatest = performance.now()
  return {
    history,
    counters,
    sample () {
      const endEarliest = performance.now()
      const sample = history.sample()
      const endLatest = performance.now()
      const result = { sample, shortest: (endEarliest - startLatest) / 1000, longest: (endLatest - startEarliest) / 1000 }
      startEarliest = endEarliest
      startLatest = endLatest
      return result
    }
  }
}

/** `rate` is `delta` over some time within [shortest, longest] seconds. */
function assertRate (rate: number, delta: number, shortest: number, longest: number, what: string): void {
  const low = delta / longest
  const high = delta / Math.max(shortest, 0.001)
  assert.ok(rate >= low - 1e-9 && rate <= high + 1e-9, `${what}: ${rate}/s is not ${delta} over ${shortest}..${longest}s (${low}..${high}/s)`)
}

test('rates are per second: each counter\'s change over the time since the last sample', async () => {
  const { counters, sample } = bracketed(() => 7)
  await pause(200)
  counters.messagesReceived += 120
  counters.messagesSent += 300
  counters.bytesReceived += 4096
  counters.bytesSent += 10_000
  counters.dropped['queue-full'] += 5
  counters.dropped.expired += 3
  const { sample: first, shortest, longest } = sample()
  assertRate(first.messagesIn, 120, shortest, longest, 'messages in')
  assertRate(first.messagesOut, 300, shortest, longest, 'messages out')
  assertRate(first.bytesIn, 4096, shortest, longest, 'bytes in')
  assertRate(first.bytesOut, 10_000, shortest, longest, 'bytes out')
  assertRate(first.dropped, 8, shortest, longest, 'dropped, over every reason')
  assert.is(first.connections, 7, 'connections are a reading, not a rate')
})

test('the next sample counts only what changed since the previous one', async () => {
  const { counters, sample } = bracketed()
  counters.messagesReceived += 1000
  counters.bytesReceived += 50_000
  sample()
  await pause(100)
  counters.messagesReceived += 40
  const second = sample()
  assertRate(second.sample.messagesIn, 40, second.shortest, second.longest, 'messages in since the previous sample')
  assert.is(second.sample.bytesIn, 0, 'no bytes arrived since the previous sample')
  await pause(20)
  const third = sample()
  assert.is(third.sample.messagesIn, 0)
  assert.is(third.sample.dropped, 0)
})

test('a sample is stamped with the wall-clock time it was taken', () => {
  const history = new TrafficHistory(createTrafficCounters(), () => 0)
  const before = Date.now()
  const sample = history.sample()
  const after = Date.now()
  assert.ok(sample.at >= before && sample.at <= after)
})

test('nothing sampled yet: no samples and no latest', () => {
  const history = new TrafficHistory(createTrafficCounters(), () => 0)
  assert.equal(history.samples(), [])
  assert.equal(history.samples(10), [])
  assert.is(history.latest(), undefined)
})

test('samples(limit) are the last `limit`, oldest first; latest() is the newest', () => {
  let connections = 0
  const history = new TrafficHistory(createTrafficCounters(), () => ++connections)
  for (let i = 0; i < 10; i++) history.sample()
  assert.equal(history.samples().map(sample => sample.connections), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
  assert.equal(history.samples(3).map(sample => sample.connections), [8, 9, 10])
  assert.equal(history.samples(50).map(sample => sample.connections), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 'a limit past what is there gives all')
  assert.equal(history.samples(0), [])
  assert.is(history.latest()?.connections, 10)
})

test('the ring keeps the last hour (3600 samples) and forgets older ones', () => {
  let connections = 0
  const history = new TrafficHistory(createTrafficCounters(), () => ++connections)
  const taken = CAPACITY + 250
  for (let i = 0; i < taken; i++) history.sample()
  const all = history.samples().map(sample => sample.connections)
  assert.is(all.length, CAPACITY)
  assert.is(all[0], taken - CAPACITY + 1, 'the oldest kept is the 3600th from the end')
  assert.is(all.at(-1), taken)
  assert.ok(all.every((value, i) => i === 0 || value === all[i - 1]! + 1), 'in order, none missing across the wrap')
  assert.equal(history.samples(4).map(sample => sample.connections), [taken - 3, taken - 2, taken - 1, taken])
  assert.is(history.samples(CAPACITY * 2).length, CAPACITY)
  assert.is(history.latest()?.connections, taken)
})

test('a subscriber gets each new sample until it unsubscribes', () => {
  let connections = 0
  const history = new TrafficHistory(createTrafficCounters(), () => ++connections)
  const seen: TrafficSample[] = []
  const others: TrafficSample[] = []
  const unsubscribe = history.subscribe(sample => seen.push(sample))
  history.subscribe(sample => others.push(sample))
  const taken = [history.sample(), history.sample(), history.sample()]
  assert.equal(seen, taken)
  unsubscribe()
  history.sample()
  assert.is(seen.length, 3, 'no more after unsubscribing')
  assert.is(others.length, 4, 'other subscribers still get them')
})

test('start() samples on its own until stop()', async () => {
  const history = new TrafficHistory(createTrafficCounters(), () => 0)
  let count = 0
  history.subscribe(() => { count++ })
  history.start(20)
  try {
    await eventually(() => count >= 3, 'three samples from the timer', 10_000)
  } finally {
    history.stop()
  }
  const stoppedAt = count
  await pause(150)
  assert.is(count, stoppedAt, 'no samples after stop()')
  assert.is(history.samples().length, stoppedAt)
})

test.run()
