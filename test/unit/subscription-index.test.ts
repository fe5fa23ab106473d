import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { subscriptionOf } from '../../actors/router/subscription.js'
import { SubscriptionIndex } from '../../actors/router/subscription-index.js'
import { filterMatches } from '../../actors/router/topic-rules.js'

const test = suite('subscription index')
interface Client { clientId: string, online: boolean }
const alice: Client = { clientId: 'alice', online: true }
const bob: Client = { clientId: 'bob', online: true }

function matchedIds (index: SubscriptionIndex<Client>, topic: string): string[] {
  return index.match(topic).map(match => match.subscriber.clientId).sort()
}

test('exact and wildcard filters both match', () => {
  const index = new SubscriptionIndex<Client>()
  index.add(alice, subscriptionOf('home/kitchen/temp', 0))
  index.add(bob, subscriptionOf('home/+/temp', 0))
  assert.equal(matchedIds(index, 'home/kitchen/temp'), ['alice', 'bob'])
  assert.equal(matchedIds(index, 'home/hall/temp'), ['bob'])
  assert.equal(matchedIds(index, 'home/hall/humidity'), [])
})

test('[MQTT-3.3.5-1] overlapping subscriptions give one match at the highest QoS', () => {
  const index = new SubscriptionIndex<Client>()
  index.add(alice, subscriptionOf('a/b', 0))
  index.add(alice, subscriptionOf('a/+', 2))
  index.add(alice, subscriptionOf('#', 1))
  const matches = index.match('a/b')
  assert.is(matches.length, 1)
  assert.is(matches[0]!.qos, 2)
})

test('[MQTT-3.8.4-3] subscribing again to the same filter replaces it', () => {
  const index = new SubscriptionIndex<Client>()
  assert.is(index.add(alice, subscriptionOf('a/#', 0)), false)
  assert.is(index.add(alice, subscriptionOf('a/#', 2)), true)
  assert.is(index.size, 1)
  assert.is(index.match('a/x')[0]!.qos, 2)
})

test('removing subscriptions stops matches and prunes the trie', () => {
  const index = new SubscriptionIndex<Client>()
  index.add(alice, subscriptionOf('a/+/c/#', 1))
  index.add(bob, subscriptionOf('a/b/c', 1))
  assert.ok(index.remove('alice', 'a/+/c/#'))
  assert.not.ok(index.remove('alice', 'a/+/c/#'))
  assert.equal(matchedIds(index, 'a/b/c'), ['bob'])
  assert.ok(index.remove('bob', 'a/b/c'))
  assert.is(index.size, 0)
  assert.equal(matchedIds(index, 'a/b/c'), [])
})

test('a topic matched before sees subscriptions added and removed after', () => {
  const index = new SubscriptionIndex<Client>()
  index.add(alice, subscriptionOf('news/#', 0))
  assert.equal(matchedIds(index, 'news/today'), ['alice'])
  index.add(bob, subscriptionOf('news/+', 1))
  assert.equal(matchedIds(index, 'news/today'), ['alice', 'bob'])
  index.add({ clientId: 'carol', online: true }, subscriptionOf('news/today', 0))
  assert.equal(matchedIds(index, 'news/today'), ['alice', 'bob', 'carol'])
  index.remove('alice', 'news/#')
  assert.equal(matchedIds(index, 'news/today'), ['bob', 'carol'])
  index.add(bob, subscriptionOf('news/+', 2))
  assert.is(index.match('news/today').find(m => m.subscriber.clientId === 'bob')!.qos, 2)
})

test('a shared group delivers each message to one member in turn, online members first', () => {
  const index = new SubscriptionIndex<Client>()
  const carol: Client = { clientId: 'carol', online: false }
  for (const client of [alice, bob, carol]) index.add(client, subscriptionOf('$share/workers/jobs/+', 1))
  index.add(carol, subscriptionOf('jobs/#', 0))
  const chosen: string[] = []
  for (let i = 0; i < 4; i++) {
    const matches = index.match('jobs/1')
    const shared = matches.filter(m => m.sharedGroup === '$share/workers/jobs/+')
    assert.is(shared.length, 1, 'one member per message')
    chosen.push(shared[0]!.subscriber.clientId)
    assert.ok(matches.some(m => m.subscriber.clientId === 'carol' && m.sharedGroup === undefined), "carol's own subscription still matches")
  }
  assert.equal(chosen, ['alice', 'bob', 'alice', 'bob'], 'the offline member is skipped')
  index.remove('alice', '$share/workers/jobs/+')
  index.remove('bob', '$share/workers/jobs/+')
  assert.is(index.match('jobs/1').filter(m => m.sharedGroup !== undefined)[0]!.subscriber.clientId, 'carol', 'with nobody online, an offline member gets it')
  index.remove('carol', '$share/workers/jobs/+')
  assert.is(index.group('$share/workers/jobs/+'), undefined)
})

test('[MQTT-4.7.2-1] wildcard filters at the first level skip $ topics', () => {
  const index = new SubscriptionIndex<Client>()
  index.add(alice, subscriptionOf('#', 0))
  index.add(bob, subscriptionOf('$SYS/#', 0))
  assert.equal(matchedIds(index, '$SYS/broker/load'), ['bob'])
  assert.equal(matchedIds(index, 'plain/topic'), ['alice'])
})

test('the index agrees with the reference matcher on every small topic and filter', () => {
  // Every topic of one to three levels over a small alphabet, including empty and $ levels.
  const alphabet = ['a', 'b', '', '$x']
  let topics = alphabet
  const all = [...topics]
  for (let depth = 2; depth <= 3; depth++) {
    topics = topics.flatMap(prefix => alphabet.map(level => `${prefix}/${level}`))
    all.push(...topics)
  }
  // Filters: each topic as is, with any one level as +, and with its last level as #.
  const filters = [...new Set(all.flatMap(topic => {
    const parts = topic.split('/')
    return [topic, ...parts.map((_, i) => parts.map((p, j) => j === i ? '+' : p).join('/')), [...parts.slice(0, -1), '#'].join('/')]
  }))]
  const index = new SubscriptionIndex<Client>()
  filters.forEach((filter, i) => index.add({ clientId: `c${i}`, online: true }, subscriptionOf(filter, 0)))
  for (const topic of all) {
    const expected = filters.flatMap((filter, i) => filterMatches(filter, topic) ? [`c${i}`] : []).sort()
    assert.equal(matchedIds(index, topic), expected, `topic "${topic}"`)
  }
})

test.run()
