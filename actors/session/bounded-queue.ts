/**
 * A first-in first-out queue with a fixed capacity and O(1) push and shift: messages waiting
 * for a session, in the order they must be delivered.
 *
 *   push -> [ tail ... head ] -> shift
 */
export class BoundedQueue<T> {
  private items: Array<T | undefined> = []
  private head = 0

  constructor (public capacity: number) {}

  get length (): number {
    return this.items.length - this.head
  }

  get isFull (): boolean {
    return this.length >= this.capacity
  }

  /** Appends `item`; false (and nothing stored) when the queue is full. */
  push (item: T): boolean {
    if (this.isFull) return false
    this.items.push(item)
    return true
  }

  /**
   * Appends `item` even past the capacity: for messages a session already held when the broker
   * stopped (the limit may have been lowered since), which are not the broker's to drop.
   */
  force (item: T): void {
    this.items.push(item)
  }

  shift (): T | undefined {
    if (this.head >= this.items.length) return undefined
    const item = this.items[this.head]
    this.items[this.head++] = undefined
    // Compact once the consumed prefix dominates, keeping shift amortised O(1).
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head)
      this.head = 0
    }
    return item
  }

  peek (): T | undefined {
    return this.items[this.head]
  }

  /** Takes out every item `predicate` picks, keeping the order of the rest. */
  removeWhere (predicate: (item: T) => boolean): T[] {
    const taken: T[] = []
    const kept: T[] = []
    for (const item of this) (predicate(item) ? taken : kept).push(item)
    this.items = kept
    this.head = 0
    return taken
  }

  clear (): void {
    this.items = []
    this.head = 0
  }

  * [Symbol.iterator] (): Iterator<T> {
    for (let i = this.head; i < this.items.length; i++) yield this.items[i] as T
  }
}
