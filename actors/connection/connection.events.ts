import type { Packet } from 'mqtt-packet'
import type { AuthenticationVerdict } from './authenticator.js'
import type { HeldPackets } from './awaiting-permission.js'
import type { CloseReason } from './close-reason.js'
import type { AcceptedConnect, RefusedConnect } from './handlers/connect.js'

/** Every way a connection ends, each carrying why. */
export type CloseEvent =
  | { type: 'socket.closed', reason: CloseReason }
  | { type: 'connect.timeout', reason: CloseReason }
  | { type: 'keepalive.expired', reason: CloseReason }
  | { type: 'protocol.violated', reason: CloseReason }
  | { type: 'client.disconnected', reason: CloseReason }
  | { type: 'takeover.requested', reason: CloseReason }
  | { type: 'broker.shutdown', reason: CloseReason }
  | { type: 'admin.disconnect', reason: CloseReason }
  /** The store could not write what an acknowledgement would confirm. */
  | { type: 'store.failed', reason: CloseReason }

export type ConnectionEvent =
  /** One socket chunk's worth of packets: the machine never sees one event per message. */
  | { type: 'packets.received', packets: Packet[] }
  | { type: 'connect.accepted', verdict: AcceptedConnect, rest: Packet[] }
  | { type: 'connect.refused', verdict: RefusedConnect }
  /** A packet waits for a permission to be decided: it and the packets behind it are held. */
  | { type: 'packets.held', held: Packet[], until: Promise<unknown> }
  | CloseEvent

/**
 * What the machine asks of the imperative side of its connection (socket, session, broker).
 * The machine decides; the driver does.
 */
export interface ConnectionDriver {
  /** Starts the CONNECT deadline; when it passes, the driver sends `connect.timeout`. */
  startConnectTimer (): void
  stopConnectTimer (): void
  /** Checks a CONNECT packet; no side effects. */
  inspectConnect (packet: Packet): AcceptedConnect | RefusedConnect
  /** False when the broker lets everyone in and the client asked for no authentication exchange. */
  needsAuthentication (verdict: AcceptedConnect): boolean
  authenticate (verdict: AcceptedConnect): Promise<AuthenticationVerdict>
  /** An AUTH packet that arrived while authenticating; one that no exchange awaited ends the connection. */
  receiveAuth (packet: Extract<Packet, { cmd: 'auth' }>): void
  /** Sends CONNACK with a refusal code (where the protocol has one). */
  refuse (verdict: RefusedConnect | { protocol: AcceptedConnect['protocol'], connackReason: number }): void
  /** Claims or takes over the session, sends CONNACK, resumes what the session had pending. */
  openSession (verdict: AcceptedConnect): void
  /**
   * Runs the data-path handlers for packets of a connected client; a close reason stops them,
   * and so does a packet that must wait for a permission (it and the rest are returned, held).
   */
  dispatch (packets: readonly Packet[]): CloseReason | HeldPackets | undefined
  /** Stops reading the socket while packets are held, so that they cannot pile up without bound. */
  pauseReading (): void
  resumeReading (): void
  /** Starts watching for silence; on expiry the driver sends `keepalive.expired` to the machine. */
  startKeepAlive (): void
  stopKeepAlive (): void
  /** Publishes the will if due, releases the session, closes the socket. */
  finish (reason: CloseReason): void
}
