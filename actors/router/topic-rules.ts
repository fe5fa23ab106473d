/**
 * What a topic name and a topic filter may contain, and whether a filter matches a name.
 *
 * Topic names are what PUBLISH carries: no wildcards [MQTT-3.3.2-2][MQTT-4.7.3-1].
 * Topic filters are what SUBSCRIBE carries: `#` only as the whole last level [MQTT-4.7.1-2],
 * `+` only as a whole level [MQTT-4.7.1-3]. Neither may be empty or hold U+0000
 * [MQTT-4.7.3-1][MQTT-4.7.3-2]. UTF-8 well-formedness is checked by the packet parser, which
 * still has the raw bytes.
 */

export const SHARED_PREFIX = '$share/'

export interface TopicLimits {
  /** Longest topic in UTF-8 bytes; the protocol's own limit is 65535. */
  readonly maxLength: number
  /** Most levels a topic or filter may have, so a client cannot build an unbounded tree. */
  readonly maxLevels: number
}

export const PROTOCOL_TOPIC_LIMITS: TopicLimits = { maxLength: 65535, maxLevels: 1024 }

export type TopicProblem =
  | 'empty'
  | 'invalid-share-name'
  | 'null-character'
  | 'wildcard-in-name'
  | 'misplaced-multi-level-wildcard'
  | 'misplaced-single-level-wildcard'
  | 'too-long'
  | 'too-many-levels'

/** Returns why `topic` is not a valid topic name, or undefined when it is. */
export function topicNameProblem (topic: string, limits: TopicLimits = PROTOCOL_TOPIC_LIMITS): TopicProblem | undefined {
  if (topic.length === 0) return 'empty'
  if (longerThan(topic, limits.maxLength)) return 'too-long'
  // One scan: wildcard and NUL code units are all ASCII, so a UTF-16 scan finds them safely.
  let levels = 1
  for (let i = 0; i < topic.length; i++) {
    const c = topic.charCodeAt(i)
    if (c === 0x2f) levels++
    else if (c === 0x23 || c === 0x2b) return 'wildcard-in-name'
    else if (c === 0) return 'null-character'
  }
  if (levels > limits.maxLevels) return 'too-many-levels'
  return undefined
}

/** A shared subscription's parts: `$share/{shareName}/{filter}`. */
export interface SharedFilter {
  readonly shareName: string
  readonly filter: string
}

/** The parts of a `$share/` filter, or undefined for an ordinary one. */
export function parseSharedFilter (filter: string): SharedFilter | undefined {
  if (!filter.startsWith(SHARED_PREFIX)) return undefined
  const rest = filter.slice(SHARED_PREFIX.length)
  const slash = rest.indexOf('/')
  return slash < 0 ? { shareName: rest, filter: '' } : { shareName: rest.slice(0, slash), filter: rest.slice(slash + 1) }
}

/** Returns why `filter` is not a valid topic filter, or undefined when it is. */
export function topicFilterProblem (filter: string, limits: TopicLimits = PROTOCOL_TOPIC_LIMITS): TopicProblem | undefined {
  const shared = parseSharedFilter(filter)
  if (shared !== undefined) {
    // The share name is a non-empty level without wildcards, followed by a filter [MQTT-4.8.2-1 (v5)][MQTT-4.8.2-2 (v5)].
    if (shared.shareName.length === 0 || /[+#]/.test(shared.shareName)) return 'invalid-share-name'
    return topicFilterProblem(shared.filter, limits)
  }
  if (filter.length === 0) return 'empty'
  if (longerThan(filter, limits.maxLength)) return 'too-long'
  if (filter.includes('\u0000')) return 'null-character'
  const levels = filter.split('/')
  if (levels.length > limits.maxLevels) return 'too-many-levels'
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i]!
    if (level.includes('#') && (level !== '#' || i !== levels.length - 1)) return 'misplaced-multi-level-wildcard'
    if (level.includes('+') && level !== '+') return 'misplaced-single-level-wildcard'
  }
  return undefined
}

/**
 * Whether `text` takes more than `maxBytes` bytes of UTF-8. A UTF-16 code unit takes 1 to 3
 * bytes, so most topics are decided from their length without encoding them.
 */
function longerThan (text: string, maxBytes: number): boolean {
  if (text.length > maxBytes) return true
  return text.length * 3 > maxBytes && Buffer.byteLength(text) > maxBytes
}

export function hasWildcard (filter: string): boolean {
  return filter.includes('+') || filter.includes('#')
}

/**
 * Whether `filter` matches the topic name `topic`. A filter starting with a wildcard does not
 * match a topic starting with `$` [MQTT-4.7.2-1].
 */
export function filterMatches (filter: string, topic: string): boolean {
  if (topic.charCodeAt(0) === 0x24 && (filter.charCodeAt(0) === 0x23 || filter.charCodeAt(0) === 0x2b)) return false
  const f = filter.split('/')
  const t = topic.split('/')
  for (let i = 0; i < f.length; i++) {
    const level = f[i]
    if (level === '#') return true // also matches the parent level [MQTT-4.7.1-2]
    if (i >= t.length) return false
    if (level !== '+' && level !== t[i]) return false
  }
  return f.length === t.length
}
