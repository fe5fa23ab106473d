import { ConfigError } from './config-error.js'
import { yamlValue } from './yaml-value.js'

/** One entry of `auth-providers`: a module of the user's, or the built-in HTTP provider. */
export type AuthProviderEntry =
  | { readonly type: 'module', readonly path: string, readonly timeoutMs: number, readonly cacheSeconds: number }
  | { readonly type: 'http', readonly url: string, readonly timeoutMs: number, readonly cacheSeconds: number, readonly headers: Readonly<Record<string, string>> }

const DEFAULT_TIMEOUT_MS = 5000
/** A module decides for itself what to remember; an HTTP service is slow enough to be worth caching. */
const DEFAULT_CACHE_SECONDS = { module: 0, http: 60 } as const
const KEYS = { module: ['type', 'path', 'timeout', 'cacheSeconds'], http: ['type', 'url', 'timeout', 'cacheSeconds', 'headers'] } as const

/**
 * The `auth-providers` option: a YAML list (flow style on the command line or in the
 * environment) of `{type: module, path}` and `{type: http, url, headers}` entries, each with
 * an optional `timeout` (ms, default 5000) and `cacheSeconds`, asked in order.
 */
export function parseAuthProviders (raw: unknown, source: string): readonly AuthProviderEntry[] {
  const list = yamlValue('auth-providers', raw, source)
  if (list === null || list === undefined) return []
  if (!Array.isArray(list)) throw new ConfigError('auth-providers', raw, 'expected a list, such as [{type: module, path: ./auth.js}, {type: http, url: "http://auth:8080/mqtt"}]', source)
  return list.map((entry: unknown, index) => parseEntry(entry, `auth-providers[${index}]`, source))
}

function parseEntry (raw: unknown, name: string, source: string): AuthProviderEntry {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ConfigError(name, raw, 'expected a mapping with type: module (and path) or type: http (and url)', source)
  const entry = raw as Record<string, unknown>
  if (entry.type !== 'module' && entry.type !== 'http') throw new ConfigError(`${name}.type`, entry.type, 'expected module or http', source)
  const type = entry.type
  const unknownKey = Object.keys(entry).find(key => !(KEYS[type] as readonly string[]).includes(key))
  if (unknownKey !== undefined) throw new ConfigError(`${name}.${unknownKey}`, entry[unknownKey], `unknown key for a ${type} provider; known ones are ${KEYS[type].join(', ')}`, source)
  const timeoutMs = wholeNumber(`${name}.timeout`, entry.timeout ?? DEFAULT_TIMEOUT_MS, 1, 600_000, source)
  const cacheSeconds = wholeNumber(`${name}.cacheSeconds`, entry.cacheSeconds ?? DEFAULT_CACHE_SECONDS[type], 0, 86_400, source)
  if (type === 'module') {
    if (typeof entry.path !== 'string' || entry.path.trim().length === 0) throw new ConfigError(`${name}.path`, entry.path, 'expected the path of a JavaScript or TypeScript module', source)
    return { type, path: entry.path, timeoutMs, cacheSeconds }
  }
  return { type, url: httpUrl(`${name}.url`, entry.url, source), timeoutMs, cacheSeconds, headers: headers(`${name}.headers`, entry.headers, source) }
}

function wholeNumber (name: string, raw: unknown, min: number, max: number, source: string): number {
  if (typeof raw !== 'number' || !Number.isInteger(raw) || raw < min || raw > max) throw new ConfigError(name, raw, `expected a whole number from ${min} to ${max}`, source)
  return raw
}

function httpUrl (name: string, raw: unknown, source: string): string {
  const url = typeof raw === 'string' && URL.canParse(raw) ? new URL(raw) : undefined
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) throw new ConfigError(name, raw, 'expected an http:// or https:// URL', source)
  return url.href
}

function headers (name: string, raw: unknown, source: string): Readonly<Record<string, string>> {
  if (raw === undefined || raw === null) return {}
  if (typeof raw !== 'object' || Array.isArray(raw) || Object.values(raw).some(value => typeof value !== 'string')) {
    throw new ConfigError(name, raw, 'expected a mapping of header names to text values, such as {authorization: "Bearer ..."}', source)
  }
  return raw as Record<string, string>
}
