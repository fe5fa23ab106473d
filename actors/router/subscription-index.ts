import type { QoS } from 'mqtt-packet'
import { SharedGroup } from './shared-group.js'
import type { Subscription } from './subscription.js'
import { hasWildcard, parseSharedFilter } from './topic-rules.js'

/** Whatever receives deliveries; a session, in the broker. */
export interface Subscriber {
  readonly clientId: string
  /** Shared subscriptions deliver to online members first. */
  readonly online: boolean
}

/** One subscriber that a topic matched, with what its matching subscriptions ask for. */
export interface Match<S extends Subscriber> {
  readonly subscriber: S
  /** The highest QoS among this subscriber's matching subscriptions [MQTT-3.3.5-1]. */
  qos: QoS
  /** The subscription that granted `qos`; its options (no local, retain as published) apply. */
  subscription: Subscription
  /** v5: every matching subscription's identifier, so one delivery carries them all. */
  subscriptionIds: number[] | undefined
  /**
   * Every matching subscription of this subscriber when there are several (undefined for one),
   * so a subscription with No Local can leave the subscriber's own messages to the others.
   */
  merged: Subscription[] | undefined
  /** The shared subscription (`$share/name/filter`) that chose this subscriber, if any. */
  readonly sharedGroup: string | undefined
}

/** Topics whose matches are remembered; past this the cache starts over. */
const ROUTE_CACHE_SIZE = 10_000

interface Entry<S extends Subscriber> {
  readonly subscriber: S
  subscription: Subscription
}

/** A shared subscription sits among a filter's entries as one entry for the whole group. */
interface GroupEntry<S extends Subscriber> {
  readonly group: SharedGroup<S>
}

/** A filter's entries: by client id, and shared groups by `$share/name`. */
type Entries<S extends Subscriber> = Map<string, Entry<S> | GroupEntry<S>>

class TrieNode<S extends Subscriber> {
  readonly children = new Map<string, TrieNode<S>>()
  entries: Entries<S> | undefined
  /** Entries whose filter ends in `#` at this node: they match this level and everything below. */
  multiLevel: Entries<S> | undefined
}

/**
 * The router's subscription index: an exact-topic map for filters without wildcards (the
 * common case, one hash lookup per publish) and a level trie for filters with them.
 * Entries are keyed by client id, so a session taking over another's client id leaves the
 * index untouched.
 */
export class SubscriptionIndex<S extends Subscriber> {
  private readonly exact = new Map<string, Entries<S>>()
  private readonly root = new TrieNode<S>()
  private wildcardCount = 0
  private total = 0
  /**
   * Topic → the entry sets that match it. Publishers reuse a small set of topics, so this
   * spares the split and trie walk on almost every publish. Entry sets are live maps, so a
   * subscriber joining an existing filter is seen without invalidation; any change that can
   * create or drop a set clears the cache.
   */
  private readonly routes = new Map<string, Array<Entries<S>>>()

  get size (): number {
    return this.total
  }

  /** Adds or replaces `subscriber`'s subscription to `subscription.filter`; true when it replaced one. */
  add (subscriber: S, subscription: Subscription): boolean {
    const shared = parseSharedFilter(subscription.filter)
    const filter = shared?.filter ?? subscription.filter
    const entries = this.entriesFor(filter, true)
    if (shared !== undefined) {
      const key = groupKey(shared.shareName)
      let entry = entries.get(key)
      if (entry === undefined) {
        entries.set(key, entry = { group: new SharedGroup<S>(shared.shareName, filter) })
        if (hasWildcard(filter)) this.wildcardCount++
      }
      if (!('group' in entry) || entry.group.set(subscriber, subscription)) return true
    } else {
      const existing = entries.get(subscriber.clientId)
      if (existing !== undefined && 'subscription' in existing) {
        existing.subscription = subscription
        return true
      }
      entries.set(subscriber.clientId, { subscriber, subscription })
      if (hasWildcard(filter)) this.wildcardCount++
    }
    this.routes.clear()
    this.total++
    return false
  }

  /** Removes `clientId`'s subscription to `filter`; true when there was one. */
  remove (clientId: string, fullFilter: string): boolean {
    const shared = parseSharedFilter(fullFilter)
    const filter = shared?.filter ?? fullFilter
    const entries = this.entriesFor(filter, false)
    if (entries === undefined) return false
    const key = shared === undefined ? clientId : groupKey(shared.shareName)
    const entry = entries.get(key)
    if (entry === undefined) return false
    if ('group' in entry) {
      if (!entry.group.delete(clientId)) return false
      if (entry.group.size === 0) entries.delete(key)
    } else {
      entries.delete(key)
    }
    this.routes.clear()
    this.total--
    if (!entries.has(key)) {
      if (hasWildcard(filter)) {
        this.wildcardCount--
        if (entries.size === 0) this.prune(filter)
      } else if (entries.size === 0) {
        this.exact.delete(filter)
      }
    }
    return true
  }

  /** The shared group `key` (`$share/name/filter`) names, for re-routing its messages. */
  group (key: string): SharedGroup<S> | undefined {
    const shared = parseSharedFilter(key)
    if (shared === undefined) return undefined
    const entry = this.entriesFor(shared.filter, false)?.get(groupKey(shared.shareName))
    return entry !== undefined && 'group' in entry ? entry.group : undefined
  }

  /** Every subscriber whose filters match `topic`, each once. */
  match (topic: string): Array<Match<S>> {
    let sets = this.routes.get(topic)
    if (sets === undefined) {
      sets = this.matchingSets(topic)
      if (this.routes.size >= ROUTE_CACHE_SIZE) this.routes.clear()
      this.routes.set(topic, sets)
    }
    const matches: Array<Match<S>> = []
    // One set cannot name a client twice, so the common case needs no de-duplication.
    if (sets.length === 1) {
      for (const entry of sets[0]!.values()) {
        const match = matchOf(entry)
        if (match !== undefined) matches.push(match)
      }
      return matches
    }
    const seen = new Map<string, Match<S>>()
    for (const entries of sets) {
      for (const entry of entries.values()) {
        // A shared group's delivery stands on its own: it is not folded into the chosen
        // member's other subscriptions.
        if ('group' in entry) {
          const match = matchOf(entry)
          if (match !== undefined) matches.push(match)
          continue
        }
        const match = seen.get(entry.subscriber.clientId)
        if (match === undefined) {
          const fresh = matchOf(entry)!
          seen.set(entry.subscriber.clientId, fresh)
          matches.push(fresh)
        } else {
          merge(match, entry.subscription)
        }
      }
    }
    return matches
  }

  /**
   * Every subscription a message on `topic` would go through, each member of a shared group
   * listed, without choosing one (match() picks a member and so moves the group's turn): for
   * the monitor.
   */
  subscriptionsMatching (topic: string): Array<{ readonly clientId: string, readonly subscription: Subscription, readonly sharedGroup?: string }> {
    const found: Array<{ readonly clientId: string, readonly subscription: Subscription, readonly sharedGroup?: string }> = []
    for (const entries of this.matchingSets(topic)) {
      for (const entry of entries.values()) {
        if (!('group' in entry)) {
          found.push({ clientId: entry.subscriber.clientId, subscription: entry.subscription })
          continue
        }
        for (const member of entry.group.members.values()) found.push({ clientId: member.subscriber.clientId, subscription: member.subscription, sharedGroup: entry.group.key })
      }
    }
    return found
  }

  private matchingSets (topic: string): Array<Entries<S>> {
    const sets: Array<Entries<S>> = []
    const exact = this.exact.get(topic)
    if (exact !== undefined) sets.push(exact)
    // A wildcard in the first level never matches a `$` topic [MQTT-4.7.2-1].
    if (this.wildcardCount > 0) walkTrie(this.root, topic.split('/'), 0, topic.charCodeAt(0) === 0x24, sets)
    return sets
  }

  private entriesFor (filter: string, create: true): Entries<S>
  private entriesFor (filter: string, create: false): Entries<S> | undefined
  private entriesFor (filter: string, create: boolean): Entries<S> | undefined {
    if (!hasWildcard(filter)) {
      let entries = this.exact.get(filter)
      if (entries === undefined && create) this.exact.set(filter, entries = new Map())
      return entries
    }
    const levels = filter.split('/')
    const multiLevel = levels[levels.length - 1] === '#'
    if (multiLevel) levels.pop()
    let node = this.root
    for (const level of levels) {
      let child = node.children.get(level)
      if (child === undefined) {
        if (!create) return undefined
        node.children.set(level, child = new TrieNode())
      }
      node = child
    }
    if (multiLevel) {
      if (node.multiLevel === undefined && create) node.multiLevel = new Map()
      return node.multiLevel
    }
    if (node.entries === undefined && create) node.entries = new Map()
    return node.entries
  }

  /** Drops trie nodes left empty by a removal, so churning filters do not leak memory. */
  private prune (filter: string): void {
    const levels = filter.split('/')
    if (levels[levels.length - 1] === '#') levels.pop()
    const path: Array<TrieNode<S>> = [this.root]
    for (const level of levels) {
      const child = path[path.length - 1]!.children.get(level)
      if (child === undefined) return
      path.push(child)
    }
    for (let i = path.length - 1; i > 0; i--) {
      const node = path[i]!
      if (node.entries?.size === 0) node.entries = undefined
      if (node.multiLevel?.size === 0) node.multiLevel = undefined
      if (node.entries !== undefined || node.multiLevel !== undefined || node.children.size > 0) return
      path[i - 1]!.children.delete(levels[i - 1]!)
    }
  }
}

/** Collects the entry sets below `node` that match `levels` from `depth` on. */
function walkTrie<S extends Subscriber> (node: TrieNode<S>, levels: string[], depth: number, dollar: boolean, sets: Array<Entries<S>>): void {
  const wildcardsAllowed = !(dollar && depth === 0)
  if (node.multiLevel !== undefined && wildcardsAllowed) sets.push(node.multiLevel)
  if (depth === levels.length) {
    if (node.entries !== undefined) sets.push(node.entries)
    return
  }
  const child = node.children.get(levels[depth]!)
  if (child !== undefined) walkTrie(child, levels, depth + 1, dollar, sets)
  if (wildcardsAllowed) {
    const plus = node.children.get('+')
    if (plus !== undefined) walkTrie(plus, levels, depth + 1, dollar, sets)
  }
}

function matchOf<S extends Subscriber> (entry: Entry<S> | GroupEntry<S>): Match<S> | undefined {
  const chosen = 'group' in entry ? entry.group.pick() : entry
  if (chosen === undefined) return undefined
  const { subscriber, subscription } = chosen
  return {
    subscriber,
    qos: subscription.qos,
    subscription,
    subscriptionIds: subscription.subscriptionId !== undefined ? [subscription.subscriptionId] : undefined,
    merged: undefined,
    sharedGroup: 'group' in entry ? entry.group.key : undefined
  }
}

/** Groups and clients share a filter's entry map; a group key cannot be a client id's twin by accident. */
function groupKey (shareName: string): string {
  return `\u0000$share/${shareName}`
}

/** Folds another matching subscription of the same subscriber into its match [MQTT-3.3.5-1]. */
function merge<S extends Subscriber> (match: Match<S>, subscription: Subscription): void {
  (match.merged ??= [match.subscription]).push(subscription)
  if (subscription.subscriptionId !== undefined) (match.subscriptionIds ??= []).push(subscription.subscriptionId)
  if (subscription.qos > match.qos) {
    match.qos = subscription.qos
    match.subscription = subscription
  }
}
