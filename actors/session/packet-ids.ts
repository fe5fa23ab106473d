/**
 * Allocates packet identifiers for outbound QoS 1/2 publishes: 1..65535, never one still in
 * use [MQTT-2.3.1-2], handed out in rising order so a client sees ids as it would from any broker.
 */
export class PacketIdAllocator {
  private next = 1

  /** The next free id, or undefined when all 65535 are in use. */
  allocate (inUse: (id: number) => boolean): number | undefined {
    for (let tries = 0; tries < 65535; tries++) {
      const id = this.next
      this.next = id === 65535 ? 1 : id + 1
      if (!inUse(id)) return id
    }
    return undefined
  }
}
