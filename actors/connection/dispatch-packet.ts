import type { Packet } from 'mqtt-packet'
import type { AwaitingPermission } from './awaiting-permission.js'
import type { CloseReason } from './close-reason.js'
import type { ConnectionLink } from './connection-link.js'
import { handleAuth } from './handlers/auth.js'
import { handleDisconnect } from './handlers/disconnect.js'
import { handlePingreq } from './handlers/pingreq.js'
import { handlePuback } from './handlers/puback.js'
import { handlePubcomp } from './handlers/pubcomp.js'
import { handlePublish } from './handlers/publish.js'
import { handlePubrec } from './handlers/pubrec.js'
import { handlePubrel } from './handlers/pubrel.js'
import { handleSubscribe } from './handlers/subscribe.js'
import { handleUnexpected } from './handlers/unexpected.js'
import { handleUnsubscribe } from './handlers/unsubscribe.js'

/**
 * Runs the handler for one packet of a connected client. A plain switch: this is the data
 * path, one call per packet, and the machine only sees one event per socket chunk.
 */
export function dispatchPacket (link: ConnectionLink, packet: Packet): CloseReason | AwaitingPermission | undefined {
  link.broker.counters.packetsReceived[packet.cmd] = (link.broker.counters.packetsReceived[packet.cmd] ?? 0) + 1
  switch (packet.cmd) {
    case 'publish': return handlePublish(link, packet)
    case 'puback': return handlePuback(link, packet)
    case 'pubrec': return handlePubrec(link, packet)
    case 'pubrel': return handlePubrel(link, packet)
    case 'pubcomp': return handlePubcomp(link, packet)
    case 'subscribe': return handleSubscribe(link, packet)
    case 'unsubscribe': return handleUnsubscribe(link, packet)
    case 'pingreq': return handlePingreq(link)
    case 'disconnect': return handleDisconnect(link, packet)
    case 'auth': return handleAuth(link, packet)
    default: return handleUnexpected(link, packet)
  }
}
