import type { Delivery } from '../session/delivery.js'
import type { Session } from '../session/session.js'
import { fanOut } from './fan-out.js'
import type { Message } from './message.js'
import type { RouterActor, RouterContext } from './router.machine.js'
import type { Subscription } from './subscription.js'
import { TopicWatch } from './topic-watch.js'

/**
 * What connections use of the router actor: changes are sent to its mailbox, reads go
 * straight to the index it owns.
 */
export class Router {
  private readonly state: RouterContext
  /** Who publishes what, while the monitor looks (topic-watch.ts). */
  readonly watch = new TopicWatch()

  constructor (readonly actor: RouterActor) {
    // The router never replaces its context, so this reference stays current.
    this.state = actor.getSnapshot().context
  }

  get subscriptionCount (): number {
    return this.state.index.size
  }

  /** Retained messages clients published (the broker's own `$SYS` ones are not counted). */
  get retainedCount (): number {
    return this.state.retained.clientSize
  }

  /** Routes `message` to its subscribers (and the retained store); returns how many sessions got it. */
  publish (message: Message): number {
    if (this.watch.active) this.watch.record(message)
    if (message.retain) this.actor.send({ type: 'retained.set', message })
    return fanOut(this.state.index.match(message.topic), message)
  }

  subscribe (session: Session, subscription: Subscription): void {
    this.actor.send({ type: 'subscription.add', session, subscription })
  }

  unsubscribe (session: Session, filter: string): void {
    this.actor.send({ type: 'subscription.remove', clientId: session.clientId, filter })
  }

  forget (session: Session): void {
    if (session.subscriptions.size === 0) return
    this.actor.send({ type: 'session.discarded', session })
  }

  /**
   * Hands deliveries a shared-subscription member can no longer take (it left the group, or
   * its session ended) to another member of the same group, so they are not lost.
   */
  redistribute (deliveries: readonly Delivery[]): void {
    for (const delivery of deliveries) {
      const member = delivery.sharedGroup === undefined ? undefined : this.state.index.group(delivery.sharedGroup)?.pick()
      if (member === undefined) continue
      const qos = delivery.message.qos < member.subscription.qos ? delivery.message.qos : member.subscription.qos
      member.subscriber.deliver({ ...delivery, qos })
    }
  }

  retainedFor (filter: string): Message[] {
    return this.state.retained.match(filter)
  }

  /** Every subscription a message on `topic` would go through (shared groups: every member), changing nothing. */
  subscriptionsMatching (topic: string): ReturnType<RouterContext['index']['subscriptionsMatching']> {
    return this.state.index.subscriptionsMatching(topic)
  }

  retainedMessages (): Iterable<Message> {
    return this.state.retained.all()
  }
}
