import { ConfigError } from './config-error.js'
import type { IdentityField, ListenerEntry, TlsVersion } from './listener-config.js'
import type { BrokerConfig, OptionKey } from './options.js'
import type { ProxyProtocolSettings } from '../listeners/proxy-protocol-gate.js'

/** The files and choices of a TLS (or wss) listener; the files are read when the broker starts. */
export interface TlsFiles {
  readonly cert: string
  readonly key: string
  readonly ca: string | undefined
  readonly minVersion: TlsVersion
  readonly ciphers: string | undefined
  /** Clients must present a certificate signed by `ca`; the handshake fails without one. */
  readonly requireCertificate: boolean
  /** Set when the certificate's name is the client's username: which name that is. */
  readonly identityField: IdentityField | undefined
}

interface ListenerBase {
  /** How messages name it: which option or list entry made it. */
  readonly label: string
  readonly host: string
  readonly port: number
}

/** One listener the broker opens, with everything it needs resolved. */
export type ListenerSpec = ListenerBase & (
  /** `proxyProtocol`: set when each connection starts with a PROXY protocol header, to be read first. */
  | { readonly type: 'tcp', readonly proxyProtocol?: ProxyProtocolSettings }
  | { readonly type: 'tls', readonly tls: TlsFiles }
  /** `path`: the URL path clients connect to. */
  | { readonly type: 'ws', readonly path: string }
  | { readonly type: 'wss', readonly path: string, readonly tls: TlsFiles }
)

/** Where a value came from, for error messages: `--tls-port`, `TROUPE_TLS_PORT`, a file, or "default". */
export type SourceOf = (key: OptionKey) => string

/**
 * Every listener the configuration asks for: the TCP one of --host/--port first, then those
 * of --tls-port, --ws-port and --wss-port, then the `listeners` list. Throws ConfigError for
 * a listener that lacks what it needs (a TLS listener without a certificate, say).
 */
export function resolveListeners (config: BrokerConfig, sourceOf: SourceOf = () => 'configuration'): ListenerSpec[] {
  const specs: ListenerSpec[] = [{ label: 'tcp listener (--port)', type: 'tcp', host: config.host, port: config.port, ...proxyProtocolOf(config.proxyProtocol, config) }]
  const flagTls = (key: 'tlsPort' | 'wssPort', port: number): TlsFiles => {
    const name = key === 'tlsPort' ? 'tls-port' : 'wss-port'
    if (config.tlsCert === undefined || config.tlsKey === undefined) {
      throw new ConfigError(name, port, 'a TLS listener needs a certificate and its key: set tls-cert and tls-key too', sourceOf(key))
    }
    // A CA given on its own is only of use to check client certificates, so it requires them.
    return { cert: config.tlsCert, key: config.tlsKey, ca: config.tlsCa, minVersion: 'TLSv1.2', ciphers: undefined, requireCertificate: config.tlsCa !== undefined, identityField: undefined }
  }
  if (config.tlsPort !== undefined) {
    specs.push({ label: 'tls listener (--tls-port)', type: 'tls', host: config.host, port: config.tlsPort, tls: flagTls('tlsPort', config.tlsPort) })
  }
  if (config.wsPort !== undefined) {
    specs.push({ label: 'ws listener (--ws-port)', type: 'ws', host: config.host, port: config.wsPort, path: config.wsPath })
  }
  if (config.wssPort !== undefined) {
    specs.push({ label: 'wss listener (--wss-port)', type: 'wss', host: config.host, port: config.wssPort, path: config.wsPath, tls: flagTls('wssPort', config.wssPort) })
  }
  config.listeners.forEach((entry, index) => specs.push(fromEntry(entry, `listeners[${index}]`, config, sourceOf('listeners'))))
  refuseSharedPorts(specs, sourceOf('listeners'))
  return specs
}

function fromEntry (entry: ListenerEntry, name: string, config: BrokerConfig, source: string): ListenerSpec {
  const base = { label: `${name} (${entry.type})`, host: entry.host ?? config.host, port: entry.port }
  const path = entry.path ?? config.wsPath
  if (entry.type === 'tcp') return { ...base, type: 'tcp', ...proxyProtocolOf(entry.proxyProtocol ?? false, config) }
  if (entry.type === 'ws') return { ...base, type: 'ws', path }
  const cert = entry.cert ?? config.tlsCert
  const key = entry.key ?? config.tlsKey
  const ca = entry.ca ?? config.tlsCa
  if (cert === undefined || key === undefined) {
    throw new ConfigError(name, entry, `a ${entry.type} listener needs cert and key (in the entry, or tls-cert and tls-key for all)`, source)
  }
  const requireCertificate = entry.requireCertificate ?? false
  if (requireCertificate && ca === undefined) {
    throw new ConfigError(`${name}.requireCertificate`, true, 'client certificates are checked against a CA: give ca (in the entry, or tls-ca for all)', source)
  }
  if (entry.useIdentityAsUsername === true && !requireCertificate) {
    throw new ConfigError(`${name}.useIdentityAsUsername`, true, 'the identity comes from a verified client certificate: set requireCertificate: true too', source)
  }
  if (entry.identityField !== undefined && entry.useIdentityAsUsername !== true) {
    throw new ConfigError(`${name}.identityField`, entry.identityField, 'only used with useIdentityAsUsername: true', source)
  }
  const tls: TlsFiles = {
    cert,
    key,
    ca,
    minVersion: entry.minVersion ?? 'TLSv1.2',
    ciphers: entry.ciphers,
    requireCertificate,
    identityField: entry.useIdentityAsUsername === true ? entry.identityField ?? 'cn' : undefined
  }
  return entry.type === 'tls' ? { ...base, type: 'tls', tls } : { ...base, type: 'wss', path, tls }
}

/**
 * The PROXY protocol settings of a TCP listener that has it on (absent when off). The header
 * has the connect timeout to arrive, as CONNECT has after it: a balancer sends it at once.
 */
function proxyProtocolOf (enabled: boolean, config: BrokerConfig): { proxyProtocol?: ProxyProtocolSettings } {
  return enabled ? { proxyProtocol: { headerTimeoutMs: config.connectTimeout * 1000 } } : {}
}

/** Two listeners on one fixed port of one host would fail to bind: say which, before binding. */
function refuseSharedPorts (specs: readonly ListenerSpec[], source: string): void {
  const seen = new Map<string, ListenerSpec>()
  for (const spec of specs) {
    if (spec.port === 0) continue
    const address = `${spec.host}:${spec.port}`
    const other = seen.get(address)
    if (other !== undefined) throw new ConfigError('listeners', address, `both the ${other.label} and the ${spec.label} want this address: give one another port`, source)
    seen.set(address, spec)
  }
}
