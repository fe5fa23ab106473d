/**
 * `$SYS/...` is where the broker describes itself. Clients may read it (as their rules allow)
 * but never write it, whatever the rules say, as in Mosquitto: a client's message there would
 * pass for the broker's own. Mosquitto refuses any topic beginning with `$SYS`; so does this.
 */
export function isSysTopic (topic: string): boolean {
  return topic.charCodeAt(0) === 0x24 && topic.startsWith('$SYS')
}
