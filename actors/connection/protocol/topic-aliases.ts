/**
 * MQTT 5 topic aliases of one connection, in both directions. Inbound: the aliases the
 * client set up, each mapping to a topic. Outbound: the aliases the broker assigned, up to
 * the client's Topic Alias Maximum, first come first served; a topic that finds the table
 * full is sent in full every time.
 */
export class TopicAliases {
  private readonly inbound = new Map<number, string>()
  private readonly outbound = new Map<string, number>()

  constructor (
    /** Aliases the broker accepts from the client (announced in CONNACK). */
    readonly inboundMaximum: number,
    /** Aliases the client accepts from the broker (its CONNECT said so). */
    readonly outboundMaximum: number
  ) {}

  /** Resolves an inbound PUBLISH topic: the topic, or why the alias is wrong. */
  resolve (topic: string, alias: number | undefined): { topic: string } | { problem: 'alias-out-of-range' | 'unknown-alias' } {
    if (alias === undefined) return { topic }
    if (alias === 0 || alias > this.inboundMaximum) return { problem: 'alias-out-of-range' }
    if (topic.length > 0) {
      this.inbound.set(alias, topic)
      return { topic }
    }
    const known = this.inbound.get(alias)
    return known === undefined ? { problem: 'unknown-alias' } : { topic: known }
  }

  /** The alias to send `topic` with, and whether the topic must go along (first use), or undefined for none. */
  outboundFor (topic: string): { alias: number, isNew: boolean } | undefined {
    if (this.outboundMaximum === 0) return undefined
    const alias = this.outbound.get(topic)
    if (alias !== undefined) return { alias, isNew: false }
    if (this.outbound.size >= this.outboundMaximum) return undefined
    const fresh = this.outbound.size + 1
    this.outbound.set(topic, fresh)
    return { alias: fresh, isNew: true }
  }

  /** Takes back an alias assigned for a packet that was not sent after all. */
  forget (topic: string): void {
    this.outbound.delete(topic)
  }
}
