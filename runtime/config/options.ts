import { ConfigError } from './config-error.js'
import type { AclRule } from '../authorization/acl-rule.js'
import { parseAclOption } from './acl-option.js'
import { parseAuthProviders, type AuthProviderEntry } from './auth-providers-option.js'
import { DEFAULT_WEBSOCKET_PATH, parseListeners, parseWebSocketPath, type ListenerEntry } from './listener-config.js'
import { parseMemoryWatermark, type MemoryWatermarkSetting } from './memory-watermark-option.js'
import { SUBSCRIBE_DENIED_REASONS, type SubscribeDeniedReason } from './subscribe-denied-reason.js'

/**
 * Every broker option, once: its name in the config file and on the command line, its
 * environment variable, default, help text and how a raw value is checked. The CLI's
 * --help, the loader and the docs are all built from this table.
 */
export interface OptionSpec<T> {
  /** Name in config.yaml and as a flag (`--name`). */
  readonly name: string
  readonly env: string
  readonly description: string
  readonly defaultValue: T
  /** Turns a raw value (a string from env or flags, anything from YAML) into T, or throws ConfigError. */
  readonly parse: (raw: unknown, source: string) => T
  /** For --help: how to write a value. */
  readonly valueHint: string
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
export type LogLevel = typeof LOG_LEVELS[number]

function integer (name: string, min: number, max: number) {
  return (raw: unknown, source: string): number => {
    const value = typeof raw === 'string' && /^\s*-?\d+\s*$/.test(raw) ? Number(raw) : raw
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      throw new ConfigError(name, raw, `expected a whole number from ${min} to ${max}`, source)
    }
    return value
  }
}

function oneOf<T extends string> (name: string, allowed: readonly T[]) {
  return (raw: unknown, source: string): T => {
    if (typeof raw !== 'string' || !(allowed as readonly string[]).includes(raw)) {
      throw new ConfigError(name, raw, `expected one of ${allowed.join(', ')}`, source)
    }
    return raw as T
  }
}

function host (name: string) {
  return (raw: unknown, source: string): string => {
    if (typeof raw !== 'string' || raw.trim().length === 0 || /\s/.test(raw.trim())) {
      throw new ConfigError(name, raw, 'expected a host name or IP address, such as 0.0.0.0 or 127.0.0.1', source)
    }
    return raw.trim()
  }
}

function path (name: string, of: 'file' | 'directory') {
  return (raw: unknown, source: string): string => {
    if (typeof raw !== 'string' || raw.trim().length === 0 || raw.includes('\0')) {
      throw new ConfigError(name, raw, `expected the path of a ${of}`, source)
    }
    return raw
  }
}

/** A secret string: at least 16 characters, so that it cannot be guessed by trying. */
function secret (name: string) {
  return (raw: unknown, source: string): string => {
    if (typeof raw !== 'string' || raw.trim().length < 16 || /\s/.test(raw.trim())) {
      throw new ConfigError(name, typeof raw === 'string' ? '(hidden)' : raw, 'expected a secret of at least 16 characters without spaces, e.g. from openssl rand -hex 24', source)
    }
    return raw.trim()
  }
}

/** An http:// or https:// URL. */
function httpUrlOption (name: string) {
  return (raw: unknown, source: string): string => {
    let url: URL | undefined
    try {
      url = typeof raw === 'string' ? new URL(raw) : undefined
    } catch {
      url = undefined
    }
    if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) throw new ConfigError(name, raw, 'expected an http:// or https:// URL, such as http://broker:8080/', source)
    return url.href
  }
}

/** A list of user names: a YAML list, or one comma-separated string (from a flag or env). */
function userList (name: string) {
  return (raw: unknown, source: string): readonly string[] => {
    const items = typeof raw === 'string' ? raw.split(',').map(item => item.trim()).filter(item => item !== '') : raw
    if (!Array.isArray(items) || !items.every(item => typeof item === 'string' && item.trim() !== '' && !item.includes(':'))) {
      throw new ConfigError(name, raw, 'expected user names, comma-separated or as a YAML list (a name cannot contain ":")', source)
    }
    return items.map(item => (item as string).trim())
  }
}

/** An option that is off until given: a port for a listener that is only opened on request. */
function optionalInteger (name: string, min: number, max: number) {
  const parse = integer(name, min, max)
  return (raw: unknown, source: string): number | undefined => parse(raw, source)
}

function yesOrNo (name: string) {
  return (raw: unknown, source: string): boolean => {
    if (typeof raw === 'boolean') return raw
    if (raw === 'true' || raw === 'yes') return true
    if (raw === 'false' || raw === 'no') return false
    throw new ConfigError(name, raw, 'expected true or false', source)
  }
}

function option<T> (name: string, defaultValue: T, valueHint: string, description: string, parse: (raw: unknown, source: string) => T): OptionSpec<T> {
  return { name, env: `TROUPE_${name.toUpperCase().replaceAll('-', '_')}`, description, defaultValue, parse, valueHint }
}

const STORAGE_KINDS = ['memory', 'level'] as const
export type StorageKind = typeof STORAGE_KINDS[number]
const DURABILITY_MODES = ['fsync', 'os'] as const
export type Durability = typeof DURABILITY_MODES[number]

export const OPTIONS = {
  host: option('host', '0.0.0.0', 'ADDRESS', 'Address the listeners bind to (a listeners entry may give its own)', host('host')),
  port: option('port', 1883, 'PORT', 'MQTT TCP port (0 picks a free one)', integer('port', 0, 65535)),
  proxyProtocol: option('proxy-protocol', false, 'BOOL', 'The --port listener is behind a load balancer that sends the PROXY protocol (v1 or v2): take each client\'s address from its header, and refuse connections without one (true or false)', yesOrNo('proxy-protocol')),
  tlsPort: option<number | undefined>('tls-port', undefined, 'PORT', 'MQTT over TLS port, usually 8883 (needs --tls-cert and --tls-key; 0 picks a free one)', optionalInteger('tls-port', 0, 65535)),
  tlsCert: option<string | undefined>('tls-cert', undefined, 'FILE', 'Server certificate (PEM, with any intermediates after it) of the TLS and secure WebSocket listeners', path('tls-cert', 'file')),
  tlsKey: option<string | undefined>('tls-key', undefined, 'FILE', 'Private key (PEM) of --tls-cert', path('tls-key', 'file')),
  tlsCa: option<string | undefined>('tls-ca', undefined, 'FILE', 'CA certificates (PEM) that sign client certificates: with it, clients of --tls-port and --wss-port must present a certificate it signed', path('tls-ca', 'file')),
  wsPort: option<number | undefined>('ws-port', undefined, 'PORT', 'MQTT over WebSocket port (0 picks a free one)', optionalInteger('ws-port', 0, 65535)),
  wsPath: option('ws-path', DEFAULT_WEBSOCKET_PATH, 'PATH', 'URL path of the WebSocket listeners; other paths are answered 404', (raw, source) => parseWebSocketPath('ws-path', raw, source)),
  wssPort: option<number | undefined>('wss-port', undefined, 'PORT', 'MQTT over secure WebSocket port, with --tls-cert and --tls-key (0 picks a free one)', optionalInteger('wss-port', 0, 65535)),
  listeners: option<readonly ListenerEntry[]>('listeners', [], 'YAML', 'More listeners, as a YAML list (flow style on the command line) of {type: tcp|tls|ws|wss, port, host, path, cert, key, ca, minVersion: TLSv1.2|TLSv1.3, ciphers, requireCertificate, useIdentityAsUsername, identityField: cn|dns|email|uri, proxyProtocol (tcp only)}; unset fields come from the options above, except proxyProtocol (false unless set)', parseListeners),
  maxKeepalive: option('max-keepalive', 65535, 'SECONDS', 'Longest keep-alive a client gets; a client asking for more, or for 0, gets this', integer('max-keepalive', 1, 65535)),
  maxPacketSize: option('max-packet-size', 268435455, 'BYTES', 'Largest packet accepted; larger ones close the connection', integer('max-packet-size', 16, 268435455)),
  maxInflight: option('max-inflight', 100, 'COUNT', 'QoS 1/2 messages per session sent and not yet acknowledged; also the Receive Maximum announced to MQTT 5 clients', integer('max-inflight', 1, 65535)),
  maxQueued: option('max-queued', 1000, 'COUNT', 'Messages queued per session while it is offline or its inflight window is full; more are dropped and counted', integer('max-queued', 0, 10_000_000)),
  maxSessionExpiry: option('max-session-expiry', 4294967295, 'SECONDS', 'Longest a session outlives its connection; 4294967295 means never expire', integer('max-session-expiry', 0, 4294967295)),
  maxTopicAlias: option('max-topic-alias', 100, 'COUNT', 'Topic aliases an MQTT 5 client may set up in each direction', integer('max-topic-alias', 0, 65535)),
  connectTimeout: option('connect-timeout', 10, 'SECONDS', 'How long a new connection may take to send CONNECT', integer('connect-timeout', 1, 3600)),
  maxConnections: option('max-connections', 0, 'COUNT', 'Client connections the broker holds at once; more are refused with CONNACK 0x89 Server busy (MQTT 3: return code 3); 0: no limit', integer('max-connections', 0, 10_000_000)),
  maxConnectionsPerAddress: option('max-connections-per-address', 0, 'COUNT', 'Connections one client IP address may hold at once; more are refused with CONNACK 0x97 Quota exceeded (MQTT 3: 3); 0: no limit. Behind a load balancer, turn on proxy-protocol, or every client shares its address', integer('max-connections-per-address', 0, 10_000_000)),
  maxConnectionRate: option('max-connection-rate', 0, 'PER_SECOND', 'New connections a second one client IP address may open, in bursts of as many; more are refused with CONNACK 0x9F Connection rate exceeded (MQTT 3: 3); 0: no limit', integer('max-connection-rate', 0, 1_000_000)),
  maxClientIdLength: option('max-client-id-length', 65535, 'BYTES', 'Longest client id (UTF-8 bytes); a longer one is refused with CONNACK 0x85 Client Identifier not valid (MQTT 3: 2 Identifier rejected); at least 23, as the protocol requires', integer('max-client-id-length', 23, 65535)),
  maxTopicLength: option('max-topic-length', 65535, 'BYTES', 'Longest topic name or filter (UTF-8 bytes); a longer PUBLISH topic is refused (MQTT 5: PUBACK/PUBREC 0x90, or DISCONNECT 0x90 for QoS 0; MQTT 3: the connection closes), a longer filter gets SUBACK 0x8F (MQTT 3: 0x80), a longer will topic CONNACK 0x90', integer('max-topic-length', 1, 65535)),
  maxTopicLevels: option('max-topic-levels', 128, 'COUNT', 'Most levels (parts between /) of a topic name or filter, refused past it like a topic over max-topic-length', integer('max-topic-levels', 1, 65535)),
  maxSubscriptions: option('max-subscriptions', 0, 'COUNT', 'Subscriptions one session may hold; a SUBSCRIBE filter beyond it gets SUBACK 0x97 Quota exceeded (MQTT 3: 0x80), replacing one it holds is always allowed; 0: no limit', integer('max-subscriptions', 0, 10_000_000)),
  maxQueuedBytes: option('max-queued-bytes', 0, 'BYTES', 'Payload bytes queued per session, beside max-queued; messages that do not fit are dropped, counted and logged; 0: no limit', integer('max-queued-bytes', 0, Number.MAX_SAFE_INTEGER)),
  maxMessageRate: option('max-message-rate', 0, 'PER_SECOND', 'PUBLISH packets a second one client may send, in bursts of as many; a faster client is slowed down (its socket is read no faster), not disconnected, and loses nothing; 0: no limit', integer('max-message-rate', 0, 10_000_000)),
  maxBandwidth: option('max-bandwidth', 0, 'BYTES_PER_SECOND', 'Bytes a second one client may send, enforced like max-message-rate; 0: no limit', integer('max-bandwidth', 0, Number.MAX_SAFE_INTEGER)),
  memoryWatermark: option<MemoryWatermarkSetting>('memory-watermark', '80%', 'BYTES|PERCENT', 'Resident memory above which the broker is overloaded (so is a JavaScript heap above 90% of its limit): new connections are refused with CONNACK 0x89 Server busy (MQTT 3: 3) and QoS 0 to clients that fell behind is dropped, until memory falls below 90% of it. Bytes, or a percentage of the memory available to the process (its cgroup limit, else the machine\'s); 0: off', parseMemoryWatermark),
  storage: option<StorageKind>('storage', 'memory', 'KIND', 'Where sessions, queued and retained messages live: memory (gone at exit) or level (LevelDB in --data-dir, survives restarts and crashes)', oneOf('storage', STORAGE_KINDS)),
  dataDir: option('data-dir', 'data', 'DIR', 'Directory of the LevelDB database when --storage is level (created if missing)', path('data-dir', 'directory')),
  durability: option<Durability>('durability', 'fsync', 'MODE', 'With --storage level: fsync (each batch reaches the disk before it is acknowledged; survives power loss) or os (left to the OS: survives a broker crash, not a power loss; faster)', oneOf('durability', DURABILITY_MODES)),
  passwordFile: option<string | undefined>('password-file', undefined, 'FILE', 'Mosquitto password file (see troupe passwd): clients with a user name must give its password', path('password-file', 'file')),
  allowAnonymous: option<boolean | undefined>('allow-anonymous', undefined, 'BOOL', 'Let clients in without a user name (true or false); by default true, or false when password-file is set', yesOrNo('allow-anonymous')),
  aclFile: option<string | undefined>('acl-file', undefined, 'FILE', 'Mosquitto acl_file: what each client may publish and receive; anything it does not grant is refused', path('acl-file', 'file')),
  acl: option<readonly AclRule[] | undefined>('acl', undefined, 'YAML', 'The same rules as a YAML list (flow style on the command line) of {user?, pattern?: true, access: read|write|readwrite|deny, topic}', parseAclOption),
  subscribeDeniedReason: option<SubscribeDeniedReason>('subscribe-denied-reason', 'not-authorized', 'REASON', 'SUBACK code an MQTT 5 client gets for a filter the access rules refuse: not-authorized (0x87) or unspecified (0x80); MQTT 3 clients always get 0x80', oneOf('subscribe-denied-reason', SUBSCRIBE_DENIED_REASONS)),
  scramUsers: option<string | undefined>('scram-users', undefined, 'FILE', 'SCRAM-SHA-256 credentials file (see troupe scram-user); when set, MQTT 5 clients can log in with SCRAM-SHA-256', path('scram-users', 'file')),
  authProviders: option<readonly AuthProviderEntry[]>('auth-providers', [], 'YAML', 'Auth providers asked in order before the password file and ACL (the first that allows or denies decides), as a YAML list (flow style on the command line) of {type: module, path} (a JS/TS module exporting authenticate, authorizePublish, authorizeSubscribe) or {type: http, url, headers}, each with timeout (ms, default 5000) and cacheSeconds (module 0, http 60)', parseAuthProviders),
  failedLoginLimit: option('failed-login-limit', 10, 'COUNT', 'Failed logins from one address within a minute before its logins are refused unchecked for failed-login-ban seconds (0: no limit)', integer('failed-login-limit', 0, 1_000_000)),
  failedLoginBan: option('failed-login-ban', 60, 'SECONDS', 'How long an address that reached failed-login-limit is refused (CONNACK 0x8A Banned; MQTT 3 return code 5)', integer('failed-login-ban', 1, 86_400)),
  monitor: option('monitor', true, 'BOOL', 'Serve the monitor web app (dashboard, connections, Prometheus /metrics) from the broker process (true or false; --no-monitor is false)', yesOrNo('monitor')),
  monitorPort: option('monitor-port', 8080, 'PORT', 'Port of the monitor web app (0 picks a free one)', integer('monitor-port', 0, 65535)),
  monitorHost: option<string | undefined>('monitor-host', undefined, 'ADDRESS', 'Address the monitor binds to; by default 0.0.0.0 with monitor-password-file, else 127.0.0.1 (without a login the monitor is only served locally)', host('monitor-host')),
  monitorPasswordFile: option<string | undefined>('monitor-password-file', undefined, 'FILE', 'Mosquitto password file (see troupe passwd) of the monitor\'s users: with it the monitor asks for a login; without it nobody signs in and it listens on 127.0.0.1 only', path('monitor-password-file', 'file')),
  monitorAdmins: option<readonly string[]>('monitor-admins', [], 'LIST', 'Users of monitor-password-file who may change things (disconnect clients); the others may only look. Comma-separated, or a YAML list', userList('monitor-admins')),
  monitorAdminToken: option<string | undefined>('monitor-admin-token', undefined, 'TOKEN', 'Secret that turns the monitor\'s admin API (/api/v1) on, for a monitor in a process of its own (troupe monitor); requests must carry it as a Bearer token. It can do what a monitor admin can: keep it secret (prefer the environment variable)', secret('monitor-admin-token')),
  monitorBroker: option<string | undefined>('monitor-broker', undefined, 'URL', 'For troupe monitor: the URL of the broker\'s own monitor, whose admin API it reads (e.g. http://broker:8080/)', httpUrlOption('monitor-broker')),
  sysInterval: option('sys-interval', 10, 'SECONDS', 'How often the broker publishes its numbers under $SYS/broker/... (retained, Mosquitto\'s topic names); 0: never', integer('sys-interval', 0, 86_400)),
  inspect: option('inspect', false, 'BOOL', 'Dev mode: record every connection machine\'s events, transitions and actions for the monitor\'s state-machine inspector (true or false); costs a few microseconds per event, nothing when off', yesOrNo('inspect')),
  logLevel: option<LogLevel>('log-level', 'info', 'LEVEL', `Least severe log level written: ${LOG_LEVELS.join(', ')}`, oneOf('log-level', LOG_LEVELS))
} as const

export type OptionKey = keyof typeof OPTIONS

/** The broker's effective configuration. */
export type BrokerConfig = { readonly [K in OptionKey]: ReturnType<typeof OPTIONS[K]['parse']> }

export type ConfigSource = 'default' | 'file' | 'env' | 'flag'
