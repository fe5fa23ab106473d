import { connect, type Socket } from 'node:net'
import { FrameReader, PacketType, type FrameHandler } from './frame-reader.js'
import { encodeConnect, encodeDisconnect, encodeSubscribe, type MqttVersion, type SessionKind } from './packets.js'

const HANDSHAKE_TIMEOUT_MS = 15_000

export interface ClientOptions {
  readonly port: number
  readonly clientId: string
  readonly version: MqttVersion
  /** Source address: connection churn spreads its clients over 127.0.0.0/8 (see connection-churn.ts). */
  readonly localAddress?: string
  /** Seconds; 0 asks for no keep-alive, so idle connections need no PINGREQ. */
  readonly keepalive?: number
  /** 'clean' unless given: a persistent session is what a durable broker journals. */
  readonly session?: SessionKind
}

/**
 * One MQTT connection of the load generator: a raw socket with a FrameReader. It does the
 * CONNECT and SUBSCRIBE handshakes; after that the load generators own its bytes.
 */
export class RawClient {
  readonly reader = new FrameReader()
  /** The socket's last error: kept rather than thrown, since a broker under test may drop clients. */
  lastError: Error | undefined

  private constructor (readonly socket: Socket, readonly version: MqttVersion) {
    socket.on('data', chunk => this.reader.push(chunk))
    socket.on('error', error => { this.lastError = error })
  }

  /** Opens a connection and resolves once CONNACK accepted it. */
  static async connect (options: ClientOptions): Promise<RawClient> {
    const socket = connect({ port: options.port, host: '127.0.0.1', noDelay: true, localAddress: options.localAddress })
    const client = new RawClient(socket, options.version)
    socket.once('connect', () => socket.write(encodeConnect(options.clientId, options.version, options.keepalive ?? 0, options.session)))
    try {
      await client.expect(PacketType.CONNACK, (data, start) => {
        // CONNACK: flags byte, then the return code (3.1.1) or reason code (5.0); 0 is success.
        const code = data[start + 1]
        return code === 0 ? undefined : `CONNACK refused ${options.clientId} with code ${String(code)}`
      })
    } catch (error) {
      socket.destroy()
      throw error
    }
    return client
  }

  async subscribe (filter: string, qos: 0 | 1): Promise<void> {
    this.socket.write(encodeSubscribe(filter, qos, this.version))
    await this.expect(PacketType.SUBACK, (data, _bodyStart, end) => {
      // The granted QoS (or reason code) is the last byte; 0x80 and above mean refused.
      const granted = data[end - 1]!
      return granted >= 0x80 ? `SUBACK refused ${filter} with code ${granted}` : undefined
    })
  }

  /** Handles every packet from now on (the reader keeps counting whether or not one is set). */
  handle (handler: FrameHandler | undefined): void {
    this.reader.onFrame = handler
  }

  /** Ends cleanly: DISCONNECT, then FIN. */
  disconnect (): void {
    if (!this.socket.destroyed) this.socket.end(encodeDisconnect(this.version))
  }

  destroy (): void {
    this.socket.destroy()
  }

  /** Waits for one packet of `type`; `check` returns an error text when its content is a refusal. */
  private async expect (type: number, check: (data: Buffer, bodyStart: number, end: number) => string | undefined): Promise<void> {
    const socket = this.socket
    // A handler set before the handshake (a subscriber's) takes over again once it is done.
    const previous = this.reader.onFrame
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => finish(new Error(`no reply of type ${type} within ${HANDSHAKE_TIMEOUT_MS} ms`)), HANDSHAKE_TIMEOUT_MS)
      const onError = (error: Error): void => finish(error)
      const onClose = (): void => finish(new Error(`the broker closed the connection while a packet of type ${type} was awaited`))
      const finish = (error: Error | undefined): void => {
        clearTimeout(timer)
        socket.off('error', onError)
        socket.off('close', onClose)
        this.reader.onFrame = previous
        if (error === undefined) resolve()
        else reject(error)
      }
      this.reader.onFrame = (first, data, bodyStart, end) => {
        if (first >> 4 !== type) {
          previous?.(first, data, bodyStart, end)
          return
        }
        const problem = check(data, bodyStart, end)
        finish(problem === undefined ? undefined : new Error(problem))
      }
      socket.once('error', onError)
      socket.once('close', onClose)
    })
  }
}
