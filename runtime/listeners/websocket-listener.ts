import { createServer as createHttpServer, type IncomingMessage, type Server } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo, Socket } from 'node:net'
import type { TLSSocket } from 'node:tls'
import { createWebSocketStream, WebSocketServer, type WebSocket } from 'ws'
import type { ClientStream, TransportContext } from '../../actors/connection/client-stream.js'
import { addressOf, type Listener, type ListenerEvents } from './listener.js'
import { listenOn, stopListening } from './listen-on.js'
import { identityOf, type TlsSettings } from './tls-settings.js'

/** The WebSocket subprotocols of MQTT: `mqtt` [MQTT-6.0.0-3], and `mqttv3.1` of MQTT 3.1 clients. */
const MQTT_SUBPROTOCOLS = ['mqtt', 'mqttv3.1']

/**
 * MQTT over WebSocket (ws) or secure WebSocket (wss, with TLS settings): an HTTP server whose
 * upgrade requests on `path` become client streams; every other request is answered and closed.
 */
export class WebSocketListener implements Listener {
  private readonly server: Server
  private readonly sockets: WebSocketServer

  constructor (
    readonly type: 'ws' | 'wss',
    private readonly host: string,
    private readonly port: number,
    private readonly path: string,
    private readonly tls: TlsSettings | undefined,
    private readonly events: ListenerEvents
  ) {
    this.server = tls === undefined ? createHttpServer() : createHttpsServer(tls.serverOptions)
    // ws takes the first subprotocol offered that MQTT knows; upgrade() has refused the others.
    this.sockets = new WebSocketServer({ noServer: true, handleProtocols: offered => [...offered].find(protocol => MQTT_SUBPROTOCOLS.includes(protocol)) ?? false })
    this.server.on('request', (request, response) => {
      const onPath = this.isOnPath(request)
      response.writeHead(onPath ? 426 : 404, { 'content-type': 'text/plain', connection: 'close', ...(onPath ? { upgrade: 'websocket' } : {}) })
      response.end(onPath ? 'MQTT over WebSocket: connect with a WebSocket client and the mqtt subprotocol\n' : `Not found: MQTT over WebSocket is at ${this.path}\n`)
    })
    this.server.on('upgrade', (request: IncomingMessage, socket: Socket, head: Buffer) => this.upgrade(request, socket, head))
    // Malformed HTTP, or a failed TLS handshake on wss: nothing to answer.
    this.server.on('clientError', (error: Error, socket: Socket) => {
      events.onRefused(addressOf(socket), error.message)
      socket.destroy()
    })
    this.server.on('tlsClientError', (error: Error, socket: TLSSocket) => events.onRefused(addressOf(socket), error.message))
  }

  async listen (): Promise<AddressInfo> {
    return await listenOn(this.server, this.host, this.port)
  }

  async close (): Promise<void> {
    this.sockets.close()
    await stopListening(this.server)
  }

  private isOnPath (request: IncomingMessage): boolean {
    return new URL(request.url ?? '/', 'http://troupe').pathname === this.path
  }

  private upgrade (request: IncomingMessage, socket: Socket, head: Buffer): void {
    if (!this.isOnPath(request)) {
      this.refuse(socket, 404, 'Not Found', `upgrade request for ${request.url ?? '/'} instead of ${this.path}`)
      return
    }
    const offered = request.headers['sec-websocket-protocol']
    if (offered !== undefined && !offered.split(',').some(protocol => MQTT_SUBPROTOCOLS.includes(protocol.trim()))) {
      this.refuse(socket, 400, 'Bad Request', `WebSocket subprotocol "${offered}" is not mqtt`)
      return
    }
    let transport: TransportContext = {}
    if (this.tls !== undefined) {
      const outcome = identityOf(socket as TLSSocket, this.tls)
      if (!outcome.accepted) {
        this.refuse(socket, 403, 'Forbidden', outcome.reason)
        return
      }
      transport = outcome.transport
    }
    this.sockets.handleUpgrade(request, socket, head, webSocket => this.events.onClient(clientStreamOf(webSocket, socket), transport))
  }

  private refuse (socket: Socket, status: number, text: string, reason: string): void {
    this.events.onRefused(addressOf(socket), reason)
    socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`)
    socket.destroySoon()
  }
}

/** The WebSocket as the byte stream a Connection reads, with its client's address. */
function clientStreamOf (webSocket: WebSocket, socket: Socket): ClientStream {
  let stream: ClientStream | undefined
  // Registered before the stream's own listener, so a text frame is dropped, not read:
  // MQTT travels in binary frames only [MQTT-6.0.0-1].
  webSocket.on('message', (_data, isBinary) => {
    if (!isBinary) stream?.destroy(new Error('a text WebSocket frame: MQTT is sent in binary frames [MQTT-6.0.0-1]'))
  })
  stream = Object.assign(createWebSocketStream(webSocket), { remoteAddress: socket.remoteAddress, remotePort: socket.remotePort })
  return stream
}
