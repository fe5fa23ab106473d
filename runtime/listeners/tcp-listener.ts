import { createServer, type AddressInfo, type Server } from 'node:net'
import type { Listener, ListenerEvents } from './listener.js'
import { listenOn, stopListening } from './listen-on.js'
import { ProxyProtocolGate, type ProxyProtocolSettings } from './proxy-protocol-gate.js'

/**
 * A plain TCP listener that hands each accepted socket to the broker; behind a load balancer
 * (`proxyProtocol` given), only once the socket's PROXY protocol header said who the client is.
 */
export class TcpListener implements Listener {
  readonly type = 'tcp'
  private readonly server: Server
  private readonly gate: ProxyProtocolGate | undefined

  constructor (private readonly host: string, private readonly port: number, events: ListenerEvents, proxyProtocol?: ProxyProtocolSettings) {
    const gate = proxyProtocol === undefined ? undefined : new ProxyProtocolGate(proxyProtocol, events)
    this.gate = gate
    this.server = createServer({ noDelay: true }, gate === undefined ? socket => events.onClient(socket, {}) : socket => gate.admit(socket))
  }

  async listen (): Promise<AddressInfo> {
    return await listenOn(this.server, this.host, this.port)
  }

  async close (): Promise<void> {
    // The server only reports closed once its sockets have: those still sending a header are the listener's own.
    const stopped = stopListening(this.server)
    this.gate?.closeWaiting()
    await stopped
  }
}
