import type { ListenerSpec } from '../config/resolve-listeners.js'
import type { Listener, ListenerEvents } from './listener.js'
import { TcpListener } from './tcp-listener.js'
import { TlsListener } from './tls-listener.js'
import { loadTlsSettings } from './tls-settings.js'
import { WebSocketListener } from './websocket-listener.js'

/** Builds the listener a spec describes; its TLS files are read now, so that a bad one stops the start. */
export function createListener (spec: ListenerSpec, events: ListenerEvents): Listener {
  switch (spec.type) {
    case 'tcp':
      return new TcpListener(spec.host, spec.port, events, spec.proxyProtocol)
    case 'tls':
      return new TlsListener(spec.host, spec.port, loadTlsSettings(spec.tls, spec.label), events)
    case 'ws':
      return new WebSocketListener('ws', spec.host, spec.port, spec.path, undefined, events)
    case 'wss':
      return new WebSocketListener('wss', spec.host, spec.port, spec.path, loadTlsSettings(spec.tls, spec.label), events)
  }
}
