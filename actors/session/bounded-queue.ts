/**
 * A first-in first-out queue with a fixed capacity and O(1) push and shift: messages waiting
 * for a session, in the order they must be delivered. Besides its count, the queue can bound
 * the sum of its items' weights (a session's payload bytes): with `maxWeight` 0 it does not
 * weigh anything, and costs nothing for it.
 *
 *   push -> [ tail ... head ] -> shift        (length <= capacity, weight <= maxWeight)
 */
export class BoundedQueue<T> {
  private items: Array<T | undefined> = []
  private head = 0
  /** The sum of the weights of the items held (0 while the queue does not weigh). */
  private held = 0

  constructor (
    public capacity: number,
    /** Most weight the queue holds; 0 for no bound. */
    readonly maxWeight = 0,
    private readonly weigh: (item: T) => number = () => 0
  ) {}

  get length (): number {
    return this.items.length - this.head
  }

  get isFull (): boolean {
    return this.length >= this.capacity
  }

  /** The weight held: a session's queued payload bytes. */
  get weight (): number {
    return this.held
  }

  /** Whether `item` would take the queue past its weight bound. */
  tooHeavyFor (item: T): boolean {
    return this.maxWeight > 0 && this.held + this.weigh(item) > this.maxWeight
  }

  /** Appends `item`; false (and nothing stored) when the queue is full, by count or by weight. */
  push (item: T): boolean {
    if (this.isFull || this.tooHeavyFor(item)) return false
    this.items.push(item)
    if (this.maxWeight > 0) this.held += this.weigh(item)
    return true
  }

  /**
   * Appends `item` even past the capacity: for messages a session already held when the broker
   * stopped (the limit may have been lowered since), which are not the broker's to drop.
   */
  force (item: T): void {
    this.items.push(item)
    if (this.maxWeight > 0) this.held += this.weigh(item)
  }

  shift (): T | undefined {
    if (this.head >= this.items.length) return undefined
    const item = this.items[this.head] as T
    this.items[this.head++] = undefined
    if (this.maxWeight > 0) this.held -= this.weigh(item)
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
    if (this.maxWeight > 0) for (const item of taken) this.held -= this.weigh(item)
    return taken
  }

  clear (): void {
    this.items = []
    this.head = 0
    this.held = 0
  }

  * [Symbol.iterator] (): Iterator<T> {
    for (let i = this.head; i < this.items.length; i++) yield this.items[i] as T
  }
}
