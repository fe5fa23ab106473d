import { remainingExpiry, type Message } from '../router/message.js'
import type { Subscription } from '../router/subscription.js'
import { BoundedQueue } from './bounded-queue.js'
import type { Delivery } from './delivery.js'
import { Inflight, type InflightState } from './inflight.js'
import { PacketIdAllocator } from './packet-ids.js'
import type { SessionJournal } from './session-journal.js'

/** The connection a session is attached to while its client is online. */
export interface SessionOwner {
  /** True while the socket holds more unsent bytes than the broker lets it buffer. */
  readonly backedUp: boolean
  /** QoS 1/2 messages the client accepts unacknowledged (its v5 Receive Maximum). */
  readonly receiveMaximum: number
  /**
   * Writes a PUBLISH; `packetId` is undefined for QoS 0. False when the connection could not
   * send it to this client (larger than the client accepts, or a topic it may not read); the
   * connection counts that.
   */
  sendPublish (delivery: Delivery, packetId: number | undefined, dup: boolean): boolean
  sendPubrel (packetId: number): void
}

export type DropReason = 'queue-full' | 'queue-bytes-full' | 'backpressure' | 'offline' | 'expired' | 'too-large' | 'not-authorized'

/** Where a session reports what it could not deliver, so it is counted and logged. */
export interface SessionObserver {
  dropped (session: Session, delivery: Delivery, reason: DropReason): void
}

export interface SessionLimits {
  /** Outbound QoS 1/2 messages sent and not yet acknowledged. */
  readonly maxInflight: number
  /** Messages waiting while the client is offline or its inflight window is full. */
  readonly maxQueued: number
  /** Payload bytes of those messages; 0 or absent for no bound (max-queued-bytes). */
  readonly maxQueuedBytes?: number
}

/**
 * The state of a client that outlives its network connection: subscriptions, the outbound
 * inflight window, messages queued for it, and inbound QoS 2 ids awaiting PUBREL. A session
 * is plain data plus the delivery rules; the connection actor that owns it does the I/O.
 */
export class Session {
  readonly subscriptions = new Map<string, Subscription>()
  readonly inflight: Inflight
  readonly queue: BoundedQueue<Delivery>
  /** Inbound QoS 2 packet ids whose PUBREC was sent and whose PUBREL has not come yet [MQTT-4.3.3-2]; change it through hold/releaseInbound. */
  readonly awaitingRelease = new Set<number>()
  private readonly packetIds = new PacketIdAllocator()
  /** The journal's number for each message this session holds, while it has a journal. */
  private readonly seqs = new Map<Delivery, number>()
  private nextSeq = 1
  /** Set when a message with an expiry was queued; purgeExpired clears it once none is left. */
  private holdsExpiring = false
  private ownerRef: SessionOwner | undefined
  /** Set once the queue overflowed, so an overflow is logged once rather than per message. */
  overflowing = false
  /** Runs out the session after its client left: expiry, or a delayed will (the registry's to set). */
  expiryTimer: NodeJS.Timeout | undefined
  /** Epoch ms at which the session ends unless its client returns; undefined while online or never. */
  expiresAt: number | undefined
  /** The store holds a record of this session (the broker's to set), so its end must delete it. */
  stored = false
  /** The will still due for this session: its connection's, or one waiting out its delay. */
  will: { readonly message: Message, readonly delay: number } | undefined

  constructor (
    readonly clientId: string,
    /** Seconds the session outlives its connection: 0 ends it with the connection [MQTT-3.1.2-6]. */
    public expiryInterval: number,
    private readonly limits: SessionLimits,
    private readonly observer: SessionObserver,
    /** Records what the session holds while it is persistent; undefined when nothing needs recording. */
    private readonly journalRef?: SessionJournal
  ) {
    this.inflight = new Inflight(limits.maxInflight)
    this.queue = new BoundedQueue<Delivery>(limits.maxQueued, limits.maxQueuedBytes ?? 0, delivery => delivery.message.payload.length)
  }

  /** The session outlives its connection. */
  get persistent (): boolean {
    return this.expiryInterval > 0
  }

  get owner (): SessionOwner | undefined {
    return this.ownerRef
  }

  get online (): boolean {
    return this.ownerRef !== undefined
  }

  attach (owner: SessionOwner): void {
    this.ownerRef = owner
    // Never more unacknowledged messages than the client said it can take [MQTT-3.3.4-9 (v5)].
    this.inflight.capacity = Math.min(this.limits.maxInflight, owner.receiveMaximum)
  }

  /** Detaches `owner`, unless the session already belongs to a newer connection. */
  detach (owner: SessionOwner): boolean {
    if (this.ownerRef !== owner) return false
    this.ownerRef = undefined
    return true
  }

  /** Sends `delivery` now, queues it, or drops it (counted) by the rules of its QoS. */
  deliver (delivery: Delivery): void {
    const left = remainingExpiry(delivery.message)
    if (left !== undefined && left <= 0) {
      this.observer.dropped(this, delivery, 'expired')
      return
    }
    const owner = this.ownerRef
    if (delivery.qos === 0) {
      // QoS 0 is never queued: to an offline or backed-up client it is dropped, so a slow
      // consumer cannot grow the broker's memory.
      if (owner === undefined) this.observer.dropped(this, delivery, 'offline')
      else if (owner.backedUp) this.observer.dropped(this, delivery, 'backpressure')
      else owner.sendPublish(delivery, undefined, false)
      return
    }
    if (owner !== undefined && this.queue.length === 0 && !this.inflight.isFull && !owner.backedUp) {
      this.sendInflight(owner, delivery)
      return
    }
    this.enqueue(delivery)
  }

  /** PUBACK: true when `packetId` was a QoS 1 message awaiting it. */
  acknowledge (packetId: number): boolean {
    const entry = this.inflight.get(packetId)
    if (entry === undefined || entry.state !== 'awaitingPuback') return false
    this.inflight.delete(packetId)
    this.forget(entry.delivery)
    this.drain()
    return true
  }

  /** PUBREC: true when `packetId` was a QoS 2 message awaiting it; the caller sends PUBREL. */
  received (packetId: number): boolean {
    const entry = this.inflight.get(packetId)
    if (entry === undefined) return false
    if (entry.state === 'awaitingPubrec') {
      entry.state = 'awaitingPubcomp'
      this.keep(entry.delivery, packetId, entry.state)
    }
    return entry.state === 'awaitingPubcomp'
  }

  /** PUBCOMP: true when `packetId` was a QoS 2 message awaiting it. */
  complete (packetId: number): boolean {
    const entry = this.inflight.get(packetId)
    if (entry === undefined || entry.state !== 'awaitingPubcomp') return false
    this.inflight.delete(packetId)
    this.forget(entry.delivery)
    this.drain()
    return true
  }

  /** An inbound QoS 2 message was routed: its id waits for PUBREL [MQTT-4.3.3-2]. */
  holdInbound (packetId: number): void {
    this.awaitingRelease.add(packetId)
    this.journal?.awaitingRelease(this, packetId, true)
  }

  /** PUBREL: true when `packetId` was waiting for it. */
  releaseInbound (packetId: number): boolean {
    if (!this.awaitingRelease.delete(packetId)) return false
    this.journal?.awaitingRelease(this, packetId, false)
    return true
  }

  /**
   * After a reconnect: re-send every unacknowledged PUBLISH with DUP set and every pending
   * PUBREL, in their original order [MQTT-4.4.0-1][MQTT-3.3.1-1], then what was queued.
   */
  resume (): void {
    const owner = this.ownerRef
    if (owner === undefined) return
    for (const entry of this.inflight.values()) {
      if (entry.state === 'awaitingPubcomp') owner.sendPubrel(entry.packetId)
      else owner.sendPublish(entry.delivery, entry.packetId, true)
    }
    this.drain()
  }

  /** Moves queued messages into the inflight window while there is room and the socket keeps up. */
  drain (): void {
    const owner = this.ownerRef
    if (owner === undefined) return
    while (this.queue.length > 0 && !this.inflight.isFull && !owner.backedUp) {
      const delivery = this.queue.shift()!
      const left = remainingExpiry(delivery.message)
      if (left !== undefined && left <= 0) {
        this.forget(delivery)
        this.observer.dropped(this, delivery, 'expired')
      } else {
        this.sendInflight(owner, delivery)
      }
    }
    if (this.overflowing && !this.queue.isFull && (this.queue.maxWeight === 0 || this.queue.weight < this.queue.maxWeight)) this.overflowing = false
  }

  /**
   * Gives up the shared-subscription deliveries this session has not started (of `group`, or
   * of every group), so another member can take them. When the session is ending, QoS 1
   * messages sent and not acknowledged go too; QoS 2 ones never do [MQTT-4.8.2-5 (v5)].
   */
  takeShared (group: string | undefined, ending: boolean): Delivery[] {
    const ofGroup = (delivery: Delivery): boolean => delivery.sharedGroup !== undefined && (group === undefined || delivery.sharedGroup === group)
    const taken = this.queue.removeWhere(ofGroup)
    if (ending) {
      for (const entry of [...this.inflight.values()]) {
        if (entry.delivery.qos === 1 && ofGroup(entry.delivery)) {
          this.inflight.delete(entry.packetId)
          taken.push(entry.delivery)
        }
      }
    }
    for (const delivery of taken) this.forget(delivery)
    return taken
  }

  /**
   * Drops the queued messages whose Message Expiry Interval ran out [MQTT-3.3.2-5 (v5)] and
   * forgets them in the store, so that a session nobody reads does not keep them on disk.
   * Cheap for a session that never queued a message with an expiry.
   */
  purgeExpired (): void {
    if (!this.holdsExpiring) return
    const now = Date.now()
    let expiring = false
    const expired = this.queue.removeWhere(delivery => {
      const left = remainingExpiry(delivery.message, () => now)
      if (left === undefined) return false
      if (left > 0) expiring = true
      return left <= 0
    })
    this.holdsExpiring = expiring
    for (const delivery of expired) {
      this.forget(delivery)
      this.observer.dropped(this, delivery, 'expired')
    }
  }

  /** Forgets what a clean start must not carry over [MQTT-3.1.2-6]. */
  reset (): void {
    this.subscriptions.clear()
    this.inflight.clear()
    this.queue.clear()
    this.awaitingRelease.clear()
    this.seqs.clear()
    this.overflowing = false
  }

  /**
   * Puts back what the store held for this session at start: messages in their order (sent ones
   * into the inflight window with their packet ids), and inbound ids awaiting PUBREL.
   */
  restoreHeld (messages: Iterable<{ readonly seq: number, readonly delivery: Delivery, readonly packetId?: number, readonly state?: InflightState }>, awaitingRelease: Iterable<number>): void {
    for (const { seq, delivery, packetId, state } of messages) {
      this.seqs.set(delivery, seq)
      if (seq >= this.nextSeq) this.nextSeq = seq + 1
      if (packetId !== undefined && state !== undefined) {
        this.inflight.restore(packetId, delivery, state)
      } else {
        this.queue.force(delivery)
        if (delivery.message.properties?.messageExpiryInterval !== undefined) this.holdsExpiring = true
      }
    }
    // Messages that expired while the broker was down go now, from the store too.
    this.purgeExpired()
    for (const packetId of awaitingRelease) this.awaitingRelease.add(packetId)
  }

  /** The journal, while the session is persistent: a clean session's messages die with it anyway. */
  private get journal (): SessionJournal | undefined {
    return this.expiryInterval > 0 ? this.journalRef : undefined
  }

  /** Records that the session holds `delivery` (queued, or sent as `packetId`). */
  private keep (delivery: Delivery, packetId?: number, state?: InflightState): void {
    const journal = this.journal
    if (journal === undefined) return
    let seq = this.seqs.get(delivery)
    const fresh = seq === undefined
    if (seq === undefined) {
      seq = this.nextSeq++
      this.seqs.set(delivery, seq)
    }
    journal.kept(this, seq, delivery, fresh, packetId, state)
  }

  private forget (delivery: Delivery): void {
    if (this.journalRef === undefined) return
    const seq = this.seqs.get(delivery)
    if (seq === undefined) return
    this.seqs.delete(delivery)
    this.journalRef.forgotten(this, seq)
  }

  private enqueue (delivery: Delivery): void {
    if (this.ownerRef === undefined && !this.persistent) {
      this.observer.dropped(this, delivery, 'offline')
      return
    }
    if (this.queue.push(delivery)) {
      this.keep(delivery)
      if (delivery.message.properties?.messageExpiryInterval !== undefined) this.holdsExpiring = true
    } else {
      this.observer.dropped(this, delivery, this.queue.isFull ? 'queue-full' : 'queue-bytes-full')
    }
  }

  private sendInflight (owner: SessionOwner, delivery: Delivery): void {
    // The configured window is at most 65535, so a free id always exists here.
    const packetId = this.packetIds.allocate(id => this.inflight.has(id))!
    if (owner.sendPublish(delivery, packetId, false)) {
      const entry = this.inflight.add(packetId, delivery)
      this.keep(delivery, packetId, entry.state)
    } else {
      // Larger than this client accepts, or not for it to read: dropped for it (the connection counted it).
      this.forget(delivery)
    }
  }
}
