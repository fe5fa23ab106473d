import type { Packet } from 'mqtt-packet'
import { closeReason, type CloseReason } from '../close-reason.js'

/**
 * A packet a client must never send to a server (CONNACK, SUBACK, UNSUBACK, PINGRESP), or a
 * second CONNECT [MQTT-3.1.0-2]: a protocol violation that closes the connection [MQTT-4.8.0-1].
 */
export function handleUnexpected (_link: unknown, packet: Packet): CloseReason {
  const detail = packet.cmd === 'connect'
    ? 'a second CONNECT on one connection [MQTT-3.1.0-2]'
    : `${packet.cmd.toUpperCase()} is not a packet a client may send`
  return closeReason('protocol-error', detail)
}
