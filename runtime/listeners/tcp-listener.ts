import { createServer, type AddressInfo, type Server } from 'node:net'
import type { Listener, ListenerEvents } from './listener.js'
import { listenOn, stopListening } from './listen-on.js'

/** A plain TCP listener that hands each accepted socket to the broker. */
export class TcpListener implements Listener {
  readonly type = 'tcp'
  private readonly server: Server

  constructor (private readonly host: string, private readonly port: number, events: Pick<ListenerEvents, 'onClient'>) {
    this.server = createServer({ noDelay: true }, socket => events.onClient(socket, {}))
  }

  async listen (): Promise<AddressInfo> {
    return await listenOn(this.server, this.host, this.port)
  }

  async close (): Promise<void> {
    await stopListening(this.server)
  }
}
