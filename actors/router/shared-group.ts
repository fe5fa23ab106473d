import type { Subscription } from './subscription.js'

/** A subscriber that can be online or not; shared deliveries prefer online members. */
export interface GroupMember {
  readonly clientId: string
  readonly online: boolean
}

export interface Membership<S extends GroupMember> {
  readonly subscriber: S
  subscription: Subscription
}

/**
 * The members of one shared subscription `$share/{name}/{filter}`: each message matching
 * the filter goes to one of them [MQTT-4.8.2-2 (v5)], in turn, skipping members that are
 * offline while any member is online.
 */
export class SharedGroup<S extends GroupMember> {
  readonly members = new Map<string, Membership<S>>()
  private order: Array<Membership<S>> = []
  private next = 0

  constructor (readonly name: string, readonly filter: string) {}

  /** `$share/{name}/{filter}`, the key deliveries carry to find their group again. */
  get key (): string {
    return `$share/${this.name}/${this.filter}`
  }

  get size (): number {
    return this.members.size
  }

  set (subscriber: S, subscription: Subscription): boolean {
    const existing = this.members.get(subscriber.clientId)
    if (existing !== undefined) {
      existing.subscription = subscription
      return true
    }
    this.members.set(subscriber.clientId, { subscriber, subscription })
    this.order = [...this.members.values()]
    return false
  }

  delete (clientId: string): boolean {
    if (!this.members.delete(clientId)) return false
    this.order = [...this.members.values()]
    return true
  }

  /** The member to deliver the next message to, or undefined when the group is empty. */
  pick (): Membership<S> | undefined {
    const count = this.order.length
    if (count === 0) return undefined
    for (let tried = 0; tried < count; tried++) {
      const member = this.order[(this.next + tried) % count]!
      if (member.subscriber.online) {
        this.next = (this.next + tried + 1) % count
        return member
      }
    }
    // Nobody online: queue it with the next member in turn (kept if its session is persistent).
    const member = this.order[this.next % count]!
    this.next = (this.next + 1) % count
    return member
  }
}
