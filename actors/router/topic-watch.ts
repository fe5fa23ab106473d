import type { Message } from './message.js'

/** What the watch knows of one topic. */
export interface TopicActivity {
  readonly topic: string
  /** Messages published on it while watched. */
  count: number
  bytes: number
  /** Epoch ms of the last one. */
  lastAt: number
  lastPayload: Buffer
  lastQos: 0 | 1 | 2
  lastRetain: boolean
  /** Messages by publisher client id (the broker's own under ''), at most PUBLISHERS_KEPT of them; see publishersOf. */
  readonly publishers: Map<string, number>
  /** The last publisher, and its messages since it took over, not yet added to `publishers`. */
  lastPublisher: string | undefined
  lastPublisherRun: number
  /** Messages in each of the last RATE_SECONDS seconds, a ring indexed by second. */
  readonly perSecond: Uint32Array
  /** The second (epoch s) perSecond's newest slot counts. */
  second: number
}

/** Seconds a rate is averaged over. */
export const RATE_SECONDS = 10
/** Topics watched at once; publishes on more are counted in `untracked`. */
const TOPICS_KEPT = 10_000
/** Publishers remembered per topic. */
const PUBLISHERS_KEPT = 50
/** How long the watch stays on after the monitor last looked. */
const ACTIVE_MS = 10 * 60 * 1000

/**
 * What is published on which topic, by whom, how often, and the last payload: for the
 * monitor's topic explorer and message flow. It costs the data path nothing while nobody looks:
 * the router records a publish only while `active`, which the monitor's topic pages switch on
 * for ten minutes at each view. Rates are counted per second over the last ten seconds.
 */
export class TopicWatch {
  private readonly topics = new Map<string, TopicActivity>()
  private activeUntil = 0
  /** Epoch ms the watch last came on; undefined while off. */
  since: number | undefined
  /** Publishes not recorded because TOPICS_KEPT topics were already watched. */
  untracked = 0
  /** Read on every publish: a plain field, refreshed by `look()` and by a timer-free check in `record`. */
  active = false

  /** The monitor looks: switch on (or stay on) for the next ten minutes. */
  look (): void {
    const now = Date.now()
    if (!this.active) {
      this.topics.clear()
      this.untracked = 0
      this.since = now
    }
    this.active = true
    this.activeUntil = now + ACTIVE_MS
  }

  record (message: Message): void {
    const now = message.receivedAt
    if (now > this.activeUntil) {
      this.active = false
      this.since = undefined
      this.topics.clear()
      return
    }
    let activity = this.topics.get(message.topic)
    if (activity === undefined) {
      if (this.topics.size >= TOPICS_KEPT) {
        this.untracked++
        return
      }
      activity = { topic: message.topic, count: 0, bytes: 0, lastAt: 0, lastPayload: message.payload, lastQos: 0, lastRetain: false, publishers: new Map(), lastPublisher: undefined, lastPublisherRun: 0, perSecond: new Uint32Array(RATE_SECONDS), second: Math.floor(now / 1000) }
      this.topics.set(message.topic, activity)
    }
    activity.count++
    activity.bytes += message.payload.length
    activity.lastAt = now
    activity.lastPayload = message.payload
    activity.lastQos = message.qos
    activity.lastRetain = message.retain
    // Most topics have one publisher: its messages are only counted until another one comes.
    const publisher = message.origin ?? ''
    if (publisher === activity.lastPublisher) activity.lastPublisherRun++
    else settlePublisher(activity, publisher)
    const second = Math.floor(now / 1000)
    if (second !== activity.second) advance(activity, second)
    activity.perSecond[second % RATE_SECONDS]!++
  }

  /** Every watched topic. */
  all (): IterableIterator<TopicActivity> {
    return this.topics.values()
  }

  get (topic: string): TopicActivity | undefined {
    return this.topics.get(topic)
  }
}

/** Messages per second on `activity`'s topic over the last RATE_SECONDS seconds, this one included. */
export function rateOf (activity: TopicActivity, now = Date.now()): number {
  const second = Math.floor(now / 1000)
  let total = 0
  for (let age = 0; age < RATE_SECONDS; age++) {
    const at = second - age
    // A slot holds the count of second `at` only if the topic's newest second is at or after
    // it and less than RATE_SECONDS after it (later seconds overwrite it).
    if (at > activity.second || at <= activity.second - RATE_SECONDS) continue
    total += activity.perSecond[at % RATE_SECONDS]!
  }
  return total / RATE_SECONDS
}

/** Messages by publisher of `activity`'s topic, the run of the last one included. */
export function publishersOf (activity: TopicActivity): Map<string, number> {
  const counted = new Map(activity.publishers)
  if (activity.lastPublisher !== undefined && (counted.has(activity.lastPublisher) || counted.size < PUBLISHERS_KEPT)) {
    counted.set(activity.lastPublisher, (counted.get(activity.lastPublisher) ?? 0) + activity.lastPublisherRun)
  }
  return counted
}

function settlePublisher (activity: TopicActivity, next: string): void {
  const previous = activity.lastPublisher
  if (previous !== undefined) {
    const sent = activity.publishers.get(previous)
    if (sent !== undefined || activity.publishers.size < PUBLISHERS_KEPT) activity.publishers.set(previous, (sent ?? 0) + activity.lastPublisherRun)
  }
  activity.lastPublisher = next
  activity.lastPublisherRun = 1
}

function advance (activity: TopicActivity, second: number): void {
  if (second <= activity.second) return
  const gap = Math.min(second - activity.second, RATE_SECONDS)
  for (let i = 1; i <= gap; i++) activity.perSecond[(activity.second + i) % RATE_SECONDS] = 0
  activity.second = second
}
