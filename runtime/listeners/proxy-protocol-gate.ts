import type { Socket } from 'node:net'
import type { TransportContext } from '../../actors/connection/client-stream.js'
import { addressOf, type ListenerEvents } from './listener.js'
import { ProxyHeaderParser, type ProxyHeader } from './proxy-protocol-header.js'

/** How long a connection may take to send its whole PROXY protocol header. */
export interface ProxyProtocolSettings {
  readonly headerTimeoutMs: number
}

/**
 * Stands between a listener that sits behind a load balancer and the broker: each accepted
 * socket must first send a PROXY protocol header, whose client address then becomes the
 * connection's. A socket that sends anything else, too little in time, or a broken header is
 * refused and reported, because on such a listener a client that could skip the header could
 * also forge one: only the balancer is trusted to say who the client is.
 */
export class ProxyProtocolGate {
  /** Sockets still sending their header: not yet the broker's, so the listener closes them. */
  private readonly waiting = new Map<Socket, () => void>()

  constructor (private readonly settings: ProxyProtocolSettings, private readonly events: ListenerEvents) {}

  /** Reads `socket`'s header, then hands the socket, with the bytes after the header unread, to the broker. */
  admit (socket: Socket): void {
    // Taken now: once the socket has closed, Node no longer knows its peer.
    const address = addressOf(socket)
    const parser = new ProxyHeaderParser()
    let received = 0
    const stopWaiting = (): void => {
      clearTimeout(timer)
      socket.off('readable', onReadable)
      socket.off('error', onEnd)
      socket.off('close', onClose)
      this.waiting.delete(socket)
    }
    const refuse = (reason: string): void => {
      stopWaiting()
      socket.destroy()
      this.events.onRefused(address, reason)
    }
    // Read in paused mode ('readable'), not through 'data': once that listener goes, the stream is
    // as if never read, and the broker's connection starts it flowing whenever it listens.
    const onReadable = (): void => {
      for (let chunk = socket.read() as Buffer | null; chunk !== null; chunk = socket.read() as Buffer | null) {
        received += chunk.length
        const outcome = parser.push(chunk)
        if (outcome.state === 'incomplete') continue
        if (outcome.state === 'refused') {
          refuse(outcome.reason)
          return
        }
        stopWaiting()
        // The client's first bytes, read with the end of the header, go back for the broker to read as MQTT.
        if (outcome.rest.length > 0) socket.unshift(outcome.rest)
        this.events.onClient(socket, transportOf(outcome.header))
        return
      }
    }
    const onEnd = (error?: Error): void => {
      // A connection opened and closed without a byte (a TCP health check) was never refused: nothing to report.
      if (received === 0) {
        stopWaiting()
        socket.destroy()
        return
      }
      refuse(`the connection ${error === undefined ? 'closed' : `failed (${error.message})`} before its PROXY protocol header was complete`)
    }
    const onClose = (): void => onEnd()
    const timer = setTimeout(() => {
      refuse(`no complete PROXY protocol header within ${this.settings.headerTimeoutMs / 1000} s (the connect timeout)`)
    }, this.settings.headerTimeoutMs)
    timer.unref()
    socket.on('readable', onReadable)
    socket.on('error', onEnd)
    socket.on('close', onClose)
    this.waiting.set(socket, stopWaiting)
  }

  /** Closes every socket still sending its header: the listener is closing. */
  closeWaiting (): void {
    for (const [socket, stopWaiting] of [...this.waiting]) {
      stopWaiting()
      socket.destroy()
    }
  }
}

/** The client address a header names, for the connection; none when the socket's own applies. */
function transportOf (header: ProxyHeader): TransportContext {
  return header.command === 'proxy' ? { remoteAddress: header.source.address, remotePort: header.source.port } : {}
}
