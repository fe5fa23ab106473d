import { connect, type Socket } from 'node:net'
import mqttPacket, { type Packet } from 'mqtt-packet'

const open = new Set<RawClient>()

/**
 * A bare MQTT client over a real socket: it sends exactly the packets (or bytes) a test
 * gives it, so tests can break the protocol on purpose and see what the broker does.
 */
export class RawClient {
  readonly received: Packet[] = []
  /** Resolves when the broker closes the connection. */
  readonly closed: Promise<void>
  private isClosed = false
  private readonly waiters = new Set<() => void>()

  private constructor (private readonly socket: Socket, private protocolVersion: number) {
    const parser = mqttPacket.parser({ protocolVersion })
    parser.on('packet', packet => {
      this.received.push(packet)
      for (const wake of this.waiters) wake()
    })
    socket.on('data', chunk => parser.parse(chunk))
    socket.on('error', () => {})
    this.closed = new Promise(resolve => socket.on('close', () => {
      this.isClosed = true
      for (const wake of this.waiters) wake()
      resolve()
    }))
    open.add(this)
  }

  /** `localAddress`: connect from another loopback address (127.0.0.2, ...), as another client host would. */
  static async connect (port: number, protocolVersion = 4, localAddress?: string): Promise<RawClient> {
    const socket = connect({ host: '127.0.0.1', port, ...(localAddress === undefined ? {} : { localAddress }) })
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve)
      socket.once('error', reject)
    })
    return new RawClient(socket, protocolVersion)
  }

  get connectionClosed (): boolean {
    return this.isClosed
  }

  send (packet: Packet): void {
    this.socket.write(mqttPacket.generate(packet, { protocolVersion: this.protocolVersion }))
  }

  sendBytes (bytes: Buffer | number[]): void {
    this.socket.write(Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes))
  }

  /** CONNECT with sensible defaults, then the CONNACK. */
  async handshake (fields: Partial<Extract<Packet, { cmd: 'connect' }>> = {}): Promise<Extract<Packet, { cmd: 'connack' }>> {
    this.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId: '', keepalive: 60, ...fields } as Packet)
    return await this.next('connack')
  }

  /** The next packet of type `cmd` not yet taken, waiting up to `timeoutMs`. */
  async next<C extends Packet['cmd']> (cmd: C, timeoutMs = 3000): Promise<Extract<Packet, { cmd: C }>> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const index = this.received.findIndex(packet => packet.cmd === cmd)
      if (index >= 0) return this.received.splice(index, 1)[0] as Extract<Packet, { cmd: C }>
      if (this.isClosed) throw new Error(`connection closed before a ${cmd.toUpperCase()} arrived`)
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`no ${cmd.toUpperCase()} within ${timeoutMs}ms`)
      await new Promise<void>(resolve => {
        const wake = (): void => { clearTimeout(timer); this.waiters.delete(wake); resolve() }
        const timer = setTimeout(wake, left)
        this.waiters.add(wake)
      })
    }
  }

  /** Resolves true if the broker closes the connection within `timeoutMs`, false otherwise. */
  async closesWithin (timeoutMs = 3000): Promise<boolean> {
    if (this.isClosed) return true
    return await Promise.race([
      this.closed.then(() => true),
      new Promise<boolean>(resolve => setTimeout(() => resolve(false), timeoutMs))
    ])
  }

  /** Stops reading from the socket, like a client that has fallen behind. */
  pause (): void {
    this.socket.pause()
  }

  resume (): void {
    this.socket.resume()
  }

  end (): void {
    this.socket.destroy()
    open.delete(this)
  }

  static closeAll (): void {
    for (const client of open) client.end()
  }
}
