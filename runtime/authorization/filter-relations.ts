/**
 * How topic filters relate, level by level (a filter or topic split at `/`). A filter whose
 * first level is a wildcard never matches a topic starting with `$` [MQTT-4.7.2-1], and an
 * ACL rule follows the same rule (Mosquitto: "$SYS/#" must be granted by a rule starting with `$`).
 */

/** Whether the filter `filter` matches the topic name `topic`. */
export function matchesTopic (filter: readonly string[], topic: readonly string[]): boolean {
  if (isDollar(topic[0]!) && isWildcard(filter[0]!)) return false
  for (let i = 0; i < filter.length; i++) {
    const level = filter[i]
    if (level === '#') return true // also the parent level [MQTT-4.7.1-2]
    if (i >= topic.length) return false
    if (level !== '+' && level !== topic[i]) return false
  }
  return filter.length === topic.length
}

/** Whether every topic `inner` matches is matched by `outer` too. */
export function covers (outer: readonly string[], inner: readonly string[]): boolean {
  if (isDollar(inner[0]!) && isWildcard(outer[0]!)) return false
  for (let i = 0; i < outer.length; i++) {
    const level = outer[i]
    if (level === '#') return true
    if (i >= inner.length) return false
    const other = inner[i]
    // `#` matches the parent level and deeper ones, which no single level matches.
    if (other === '#') return false
    if (level !== '+' && level !== other) return false
  }
  return outer.length === inner.length
}

/** Whether some topic is matched by both filters. */
export function intersects (a: readonly string[], b: readonly string[]): boolean {
  if ((isDollar(a[0]!) && isWildcard(b[0]!)) || (isDollar(b[0]!) && isWildcard(a[0]!))) return false
  const shorter = Math.min(a.length, b.length)
  for (let i = 0; i < shorter; i++) {
    const x = a[i]!
    const y = b[i]!
    if (x === '#' || y === '#') return true
    if (x === '+' || y === '+') continue
    if (x !== y) return false
  }
  if (a.length === b.length) return true
  // One ended: the other still meets it if all it has left is `#` (which matches the parent).
  const longer = a.length > b.length ? a : b
  return longer.length === shorter + 1 && longer[shorter] === '#'
}

function isDollar (level: string): boolean {
  return level.charCodeAt(0) === 0x24
}

function isWildcard (level: string): boolean {
  return level === '+' || level === '#'
}
