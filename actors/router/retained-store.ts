import type { Message } from './message.js'

class RetainedNode {
  readonly children = new Map<string, RetainedNode>()
  message: Message | undefined
}

/**
 * Retained messages, one per topic, in a level trie so that a wildcard subscription finds
 * its retained messages by walking the filter rather than scanning every topic.
 */
export class RetainedStore {
  private readonly root = new RetainedNode()
  private count = 0
  /** How many of them have a topic beginning with `$`: the server's own, such as `$SYS/...` [MQTT-4.7.2-1]. */
  private serverCount = 0

  get size (): number {
    return this.count
  }

  /** Retained messages clients published: all but the server's own `$` topics. */
  get clientSize (): number {
    return this.count - this.serverCount
  }

  /** Stores `message` for its topic, or clears the topic when the payload is empty [MQTT-3.3.1-10][MQTT-3.3.1-11]. */
  set (message: Message): void {
    if (message.payload.length === 0) {
      this.delete(message.topic)
      return
    }
    let node = this.root
    for (const level of message.topic.split('/')) {
      let child = node.children.get(level)
      if (child === undefined) node.children.set(level, child = new RetainedNode())
      node = child
    }
    if (node.message === undefined) {
      this.count++
      if (isServerTopic(message.topic)) this.serverCount++
    }
    node.message = message
  }

  get (topic: string): Message | undefined {
    let node: RetainedNode | undefined = this.root
    for (const level of topic.split('/')) {
      node = node.children.get(level)
      if (node === undefined) return undefined
    }
    return node.message
  }

  delete (topic: string): boolean {
    const levels = topic.split('/')
    const path: RetainedNode[] = [this.root]
    for (const level of levels) {
      const child = path[path.length - 1]!.children.get(level)
      if (child === undefined) return false
      path.push(child)
    }
    const leaf = path[path.length - 1]!
    if (leaf.message === undefined) return false
    leaf.message = undefined
    this.count--
    if (isServerTopic(topic)) this.serverCount--
    for (let i = path.length - 1; i > 0; i--) {
      const node = path[i]!
      if (node.message !== undefined || node.children.size > 0) break
      path[i - 1]!.children.delete(levels[i - 1]!)
    }
    return true
  }

  /** Every retained message whose topic `filter` matches; `$` topics only for filters that name them [MQTT-4.7.2-1]. */
  match (filter: string): Message[] {
    const found: Message[] = []
    const levels = filter.split('/')
    const walk = (node: RetainedNode, depth: number): void => {
      if (depth === levels.length) {
        if (node.message !== undefined) found.push(node.message)
        return
      }
      const level = levels[depth]!
      if (level === '#') {
        collectAll(node, found, depth === 0)
        return
      }
      if (level === '+') {
        for (const [name, child] of node.children) {
          if (depth === 0 && name.startsWith('$')) continue
          walk(child, depth + 1)
        }
        return
      }
      const child = node.children.get(level)
      if (child !== undefined) walk(child, depth + 1)
    }
    walk(this.root, 0)
    return found
  }

  /** Every retained message, in no particular order. */
  * all (): Iterable<Message> {
    const stack: RetainedNode[] = [this.root]
    while (stack.length > 0) {
      const node = stack.pop()!
      if (node.message !== undefined) yield node.message
      for (const child of node.children.values()) stack.push(child)
    }
  }
}

/** `node` and everything below it; `#` also matches the parent level itself [MQTT-4.7.1-2]. */
function collectAll (node: RetainedNode, found: Message[], atRoot: boolean): void {
  if (node.message !== undefined && !atRoot) found.push(node.message)
  for (const [name, child] of node.children) {
    if (atRoot && name.startsWith('$')) continue
    collectAll(child, found, false)
  }
}

function isServerTopic (topic: string): boolean {
  return topic.charCodeAt(0) === 0x24
}
