import { createServer, type AddressInfo, type Server, type Socket } from 'node:net'

/** A plain TCP listener that hands each accepted socket to the broker. */
export class TcpListener {
  private readonly server: Server

  constructor (private readonly host: string, private readonly port: number, onSocket: (socket: Socket) => void) {
    this.server = createServer({ noDelay: true }, onSocket)
  }

  async listen (): Promise<AddressInfo> {
    await new Promise<void>((resolve, reject) => {
      const fail = (error: Error): void => reject(error)
      this.server.once('error', fail)
      this.server.listen(this.port, this.host, () => {
        this.server.off('error', fail)
        resolve()
      })
    })
    return this.server.address() as AddressInfo
  }

  /** Stops accepting; existing sockets are the broker's to close. */
  async close (): Promise<void> {
    if (!this.server.listening) return
    await new Promise<void>(resolve => this.server.close(() => resolve()))
  }
}
