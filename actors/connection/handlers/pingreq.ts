import type { CloseReason } from '../close-reason.js'
import type { ConnectionLink } from '../connection-link.js'

/** PINGREQ: answer PINGRESP [MQTT-3.12.4-1]. Any packet already counts as keep-alive activity. */
export function handlePingreq (link: ConnectionLink): CloseReason | undefined {
  link.send({ cmd: 'pingresp' })
  return undefined
}
