/**
 * What the admin API sends and the remote monitor reads: JSON, with each Buffer (a topic's
 * payload) as `{ "$base64": "..." }` instead of JSON's array of numbers.
 */
export function toWire (value: unknown): unknown {
  if (Buffer.isBuffer(value)) return { $base64: value.toString('base64') }
  if (Array.isArray(value)) return value.map(toWire)
  if (value instanceof Map) return Object.fromEntries([...value].map(([key, item]) => [key, toWire(item)]))
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, toWire(item)]))
  return value
}

export function fromWire<T> (value: unknown): T {
  return revive(value) as T
}

function revive (value: unknown): unknown {
  if (Array.isArray(value)) return value.map(revive)
  if (typeof value === 'object' && value !== null) {
    const record = value as Record<string, unknown>
    if (typeof record.$base64 === 'string' && Object.keys(record).length === 1) return Buffer.from(record.$base64, 'base64')
    return Object.fromEntries(Object.entries(record).map(([key, item]) => [key, revive(item)]))
  }
  return value
}
