import type { Message } from '../actors/router/message.js'
import type { Router } from '../actors/router/router.js'
import { filterMatches } from '../actors/router/topic-rules.js'
import { publishersOf, rateOf, type TopicActivity } from '../actors/router/topic-watch.js'
import type { FlowView, TopicDetail, TopicLevel, TopicPage } from './topic-views.js'

/** Topics a flow graph draws at most: the busiest. */
const FLOW_TOPICS = 25

/**
 * The topic explorer at `prefix`: the levels under it, from the topics published while the
 * monitor watched and those holding retained messages, and the topic itself when it is one.
 */
export function exploreTopics (router: Router, prefix: string): TopicPage {
  router.watch.look()
  const now = Date.now()
  const retained = new Map<string, Message>()
  for (const message of router.retainedMessages()) retained.set(message.topic, message)
  const topics = new Set<string>([...retained.keys()])
  for (const activity of router.watch.all()) topics.add(activity.topic)
  const levels = new Map<string, { topics: number, rate: number, count: number, retained: boolean, hasChildren: boolean }>()
  const start = prefix === '' ? 0 : prefix.length + 1
  for (const topic of topics) {
    if (prefix !== '' && topic !== prefix && !topic.startsWith(`${prefix}/`)) continue
    if (topic === prefix) continue
    const end = topic.indexOf('/', start)
    const path = end < 0 ? topic : topic.slice(0, end)
    const level = levels.get(path) ?? { topics: 0, rate: 0, count: 0, retained: false, hasChildren: false }
    const activity = router.watch.get(topic)
    level.topics++
    level.rate += activity === undefined ? 0 : rateOf(activity, now)
    level.count += activity?.count ?? 0
    if (topic === path) level.retained = retained.has(topic)
    else level.hasChildren = true
    levels.set(path, level)
  }
  const sorted: TopicLevel[] = [...levels].map(([path, level]) => ({ name: path.slice(start), path, ...level })).sort((a, b) => a.name.localeCompare(b.name))
  const known = prefix !== '' && topics.has(prefix)
  return {
    prefix,
    levels: sorted,
    detail: known ? detailOf(router, prefix, router.watch.get(prefix), retained.get(prefix), now) : undefined,
    watchingSince: router.watch.since,
    untracked: router.watch.untracked
  }
}

/** Publishers -> topics -> subscribers of the busiest topics that `filter` matches. */
export function flowOf (router: Router, filter: string): FlowView {
  router.watch.look()
  const now = Date.now()
  const matching = [...router.watch.all()].filter(activity => filterMatches(filter, activity.topic))
  matching.sort((a, b) => rateOf(b, now) - rateOf(a, now) || b.count - a.count)
  const shown = matching.slice(0, FLOW_TOPICS)
  return {
    filter,
    topics: shown.map(activity => ({ topic: activity.topic, rate: rateOf(activity, now), count: activity.count })),
    publishers: shown.flatMap(activity => [...publishersOf(activity)].map(([clientId, count]) => ({ clientId, topic: activity.topic, count }))),
    subscribers: shown.flatMap(activity => router.subscriptionsMatching(activity.topic).map(({ clientId, subscription, sharedGroup }) => ({ clientId, topic: activity.topic, filter: sharedGroup ?? subscription.filter }))),
    omitted: matching.length - shown.length,
    watchingSince: router.watch.since
  }
}

function detailOf (router: Router, topic: string, activity: TopicActivity | undefined, retained: Message | undefined, now: number): TopicDetail {
  return {
    topic,
    count: activity?.count ?? 0,
    rate: activity === undefined ? 0 : rateOf(activity, now),
    bytes: activity?.bytes ?? 0,
    last: activity === undefined ? undefined : { at: activity.lastAt, payload: activity.lastPayload, qos: activity.lastQos, retain: activity.lastRetain },
    retained: retained === undefined ? undefined : { at: retained.receivedAt, payload: retained.payload, qos: retained.qos },
    publishers: [...activity === undefined ? [] : publishersOf(activity)].map(([clientId, count]) => ({ clientId, count })).sort((a, b) => b.count - a.count),
    subscribers: router.subscriptionsMatching(topic).map(({ clientId, subscription, sharedGroup }) => ({ clientId, filter: sharedGroup ?? subscription.filter, qos: subscription.qos, sharedGroup }))
  }
}
