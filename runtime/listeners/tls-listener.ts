import type { AddressInfo } from 'node:net'
import { createServer, type Server } from 'node:tls'
import { addressOf, type Listener, type ListenerEvents } from './listener.js'
import { listenOn, stopListening } from './listen-on.js'
import { identityOf, type TlsSettings } from './tls-settings.js'

/** MQTT over TLS: hands each client to the broker once its handshake (and certificate check) succeeded. */
export class TlsListener implements Listener {
  readonly type = 'tls'
  private readonly server: Server

  constructor (private readonly host: string, private readonly port: number, settings: TlsSettings, events: ListenerEvents) {
    this.server = createServer({ ...settings.serverOptions, noDelay: true }, socket => {
      const outcome = identityOf(socket, settings)
      if (outcome.accepted) {
        events.onClient(socket, outcome.transport)
      } else {
        events.onRefused(addressOf(socket), outcome.reason)
        socket.destroy()
      }
    })
    // A failed handshake: an old TLS version, no or an untrusted client certificate, plain MQTT on the TLS port.
    this.server.on('tlsClientError', (error, socket) => events.onRefused(addressOf(socket), error.message))
  }

  async listen (): Promise<AddressInfo> {
    return await listenOn(this.server, this.host, this.port)
  }

  async close (): Promise<void> {
    await stopListening(this.server)
  }
}
