import { LISTENER_TYPES, type ListenerType } from '../listeners/listener.js'
import { ConfigError } from './config-error.js'
import { yamlValue } from './yaml-value.js'

export const TLS_VERSIONS = ['TLSv1.2', 'TLSv1.3'] as const
export type TlsVersion = typeof TLS_VERSIONS[number]
/** Which name in a client certificate becomes the username: its CN, or its first SAN of a kind. */
export const IDENTITY_FIELDS = ['cn', 'dns', 'email', 'uri'] as const
export type IdentityField = typeof IDENTITY_FIELDS[number]
export const DEFAULT_WEBSOCKET_PATH = '/mqtt'

/** One entry of the `listeners:` list, as written; what is left out comes from the other options. */
export interface ListenerEntry {
  readonly type: ListenerType
  readonly port: number
  readonly host?: string
  readonly path?: string
  readonly cert?: string
  readonly key?: string
  readonly ca?: string
  readonly minVersion?: TlsVersion
  readonly ciphers?: string
  readonly requireCertificate?: boolean
  readonly useIdentityAsUsername?: boolean
  readonly identityField?: IdentityField
  /** tcp only: the listener is behind a load balancer that sends the PROXY protocol (v1 or v2). */
  readonly proxyProtocol?: boolean
}

const ENTRY_KEYS = ['type', 'port', 'host', 'path', 'cert', 'key', 'ca', 'minVersion', 'ciphers', 'requireCertificate', 'useIdentityAsUsername', 'identityField', 'proxyProtocol'] as const
const TLS_ONLY_KEYS = ['cert', 'key', 'ca', 'minVersion', 'ciphers', 'requireCertificate', 'useIdentityAsUsername', 'identityField'] as const

/**
 * Parses the `listeners` option: a YAML list from the config file, or the same list written
 * in YAML flow style in a flag or variable (`[{type: ws, port: 8080}]`).
 */
export function parseListeners (raw: unknown, source: string): readonly ListenerEntry[] {
  const list = yamlValue('listeners', raw, source)
  if (list === null || list === undefined) return []
  if (!Array.isArray(list)) throw new ConfigError('listeners', raw, 'expected a list of listeners, such as [{type: tls, port: 8883}]', source)
  return list.map((entry: unknown, index) => parseEntry(entry, `listeners[${index}]`, source))
}

function parseEntry (raw: unknown, name: string, source: string): ListenerEntry {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ConfigError(name, raw, `expected a mapping with type (${LISTENER_TYPES.join(', ')}) and port`, source)
  }
  const entry = raw as Record<string, unknown>
  const unknownKey = Object.keys(entry).find(key => !(ENTRY_KEYS as readonly string[]).includes(key))
  if (unknownKey !== undefined) throw new ConfigError(`${name}.${unknownKey}`, entry[unknownKey], `unknown listener key; known ones are ${ENTRY_KEYS.join(', ')}`, source)
  const field = (key: string): string => `${name}.${key}`
  const type = oneOf(field('type'), entry.type, LISTENER_TYPES, source)
  const secure = type === 'tls' || type === 'wss'
  if (!secure) {
    const tlsKey = TLS_ONLY_KEYS.find(key => entry[key] !== undefined)
    if (tlsKey !== undefined) throw new ConfigError(field(tlsKey), entry[tlsKey], `only a tls or wss listener takes ${tlsKey}; this one is ${type}`, source)
  }
  // A header read before the TLS handshake or the HTTP upgrade is not implemented: refused rather than ignored.
  if (entry.proxyProtocol !== undefined && type !== 'tcp') throw new ConfigError(field('proxyProtocol'), entry.proxyProtocol, `only a tcp listener takes the PROXY protocol; this one is ${type}`, source)
  if (entry.path !== undefined && type !== 'ws' && type !== 'wss') throw new ConfigError(field('path'), entry.path, `only a ws or wss listener has a path; this one is ${type}`, source)
  const port = entry.port
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(field('port'), port, 'expected a whole number from 0 to 65535', source)
  return {
    type,
    port,
    host: optional(entry.host, value => parseHost(field('host'), value, source)),
    path: optional(entry.path, value => parseWebSocketPath(field('path'), value, source)),
    cert: optional(entry.cert, value => parseFilePath(field('cert'), value, source)),
    key: optional(entry.key, value => parseFilePath(field('key'), value, source)),
    ca: optional(entry.ca, value => parseFilePath(field('ca'), value, source)),
    minVersion: optional(entry.minVersion, value => oneOf(field('minVersion'), value, TLS_VERSIONS, source)),
    ciphers: optional(entry.ciphers, value => nonEmptyString(field('ciphers'), value, 'expected an OpenSSL cipher list, such as ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384', source)),
    requireCertificate: optional(entry.requireCertificate, value => boolean(field('requireCertificate'), value, source)),
    useIdentityAsUsername: optional(entry.useIdentityAsUsername, value => boolean(field('useIdentityAsUsername'), value, source)),
    identityField: optional(entry.identityField, value => oneOf(field('identityField'), value, IDENTITY_FIELDS, source)),
    proxyProtocol: optional(entry.proxyProtocol, value => boolean(field('proxyProtocol'), value, source))
  }
}

function optional<T> (raw: unknown, parse: (raw: unknown) => T): T | undefined {
  return raw === undefined || raw === null ? undefined : parse(raw)
}

function oneOf<T extends string> (name: string, raw: unknown, allowed: readonly T[], source: string): T {
  if (typeof raw !== 'string' || !(allowed as readonly string[]).includes(raw)) throw new ConfigError(name, raw, `expected one of ${allowed.join(', ')}`, source)
  return raw as T
}

function boolean (name: string, raw: unknown, source: string): boolean {
  if (typeof raw !== 'boolean') throw new ConfigError(name, raw, 'expected true or false', source)
  return raw
}

function nonEmptyString (name: string, raw: unknown, allowed: string, source: string): string {
  if (typeof raw !== 'string' || raw.trim().length === 0) throw new ConfigError(name, raw, allowed, source)
  return raw.trim()
}

export function parseHost (name: string, raw: unknown, source: string): string {
  if (typeof raw !== 'string' || raw.trim().length === 0 || /\s/.test(raw.trim())) {
    throw new ConfigError(name, raw, 'expected a host name or IP address, such as 0.0.0.0 or 127.0.0.1', source)
  }
  return raw.trim()
}

export function parseFilePath (name: string, raw: unknown, source: string): string {
  if (typeof raw !== 'string' || raw.trim().length === 0 || raw.includes('\0')) throw new ConfigError(name, raw, 'expected the path of a file', source)
  return raw
}

export function parseWebSocketPath (name: string, raw: unknown, source: string): string {
  if (typeof raw !== 'string' || !/^\/[^\s?#]*$/.test(raw)) throw new ConfigError(name, raw, 'expected a URL path starting with /, such as /mqtt', source)
  return raw
}
