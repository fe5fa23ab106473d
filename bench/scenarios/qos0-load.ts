import { CappedFlood } from '../load/capped-flood.js'
import type { RawClient } from '../load/client.js'
import { FloodPublisher } from '../load/flood-publisher.js'
import { repeat } from '../load/packets.js'

/** What the QoS 0 scenarios need from their publishers, capped or not. */
export interface Qos0Load {
  start (): void
  stop (): void
  /** Messages written so far. */
  readonly sent: number
  /** Deliveries written off as dropped (capped load only). */
  readonly lost: number
}

/**
 * QoS 0 publishers sending `packets` (one per publisher client) as fast as they may: with at
 * most `window` published messages in flight (each counts until every subscriber has read it;
 * refilled whenever a subscriber reads), or, with window 0, as fast as TCP takes them.
 */
export function qos0Load (
  publishers: ReadonlyArray<{ readonly client: RawClient, readonly packet: Buffer }>,
  subscribers: readonly RawClient[],
  delivered: () => number,
  window: number
): Qos0Load {
  const cap = window * subscribers.length
  const sources = publishers.map(({ client, packet }) => {
    const batch = floodBatch(packet, publishers.length, subscribers.length, cap)
    return { client, batch: batch.bytes, messagesPerBatch: batch.messages }
  })
  if (cap > 0) {
    const flood = new CappedFlood(sources, delivered, subscribers.length, cap)
    // Registered after each client's reader, so deliveries of this chunk are already counted.
    for (const subscriber of subscribers) subscriber.socket.on('data', () => flood.refill())
    return flood
  }
  const floods = sources.map(source => new FloodPublisher(source.client, source.batch, source.messagesPerBatch))
  return {
    start: () => { for (const flood of floods) flood.start() },
    stop: () => { for (const flood of floods) flood.stop() },
    get sent () { return floods.reduce((sum, flood) => sum + flood.sent, 0) },
    lost: 0
  }
}

/**
 * At most this many bytes per socket write: enough packets per syscall that the load side spends
 * little per message, small enough that each publisher's writes interleave with the others'.
 */
const MAX_BATCH_BYTES = 32 * 1024
/** Batches per publisher that fit in the in-flight cap, so that the pipeline never runs dry. */
const BATCHES_IN_FLIGHT = 4

/**
 * The batch a QoS 0 publisher writes over and over: copies of one PUBLISH, sized so that each
 * of `publishers` can have several batches within a `cap` of deliveries in flight (0: no cap),
 * each message making `copies` deliveries.
 */
function floodBatch (packet: Buffer, publishers: number, copies: number, cap: number): { bytes: Buffer, messages: number } {
  const bySize = Math.max(1, Math.floor(MAX_BATCH_BYTES / packet.length))
  const byCap = cap > 0 ? Math.max(1, Math.floor(cap / (copies * publishers * BATCHES_IN_FLIGHT))) : bySize
  const messages = Math.min(bySize, byCap)
  return { bytes: repeat(packet, messages), messages }
}
