import { closeReason, type CloseReason } from '../close-reason.js'

/** DISCONNECT: the client leaves cleanly, so its will is discarded [MQTT-3.14.4-3]. */
export function handleDisconnect (): CloseReason {
  return closeReason('client-disconnect', 'client sent DISCONNECT')
}
