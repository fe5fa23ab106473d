import type { StoreOperation } from './store.js'

/**
 * Drops the writes of session messages that never need to reach the disk: a message first
 * written (`fresh`) and deleted again within the same batch was delivered and acknowledged
 * before the store got to it, so neither its put (nor any update of it) nor its delete is
 * written. Under load the persistence actor merges the ticks that arrive while LevelDB is busy
 * into one batch, so most messages to a subscriber that keeps up cost the store nothing.
 * Everything else is kept, in order.
 */
export function coalesceOperations (operations: readonly StoreOperation[]): readonly StoreOperation[] {
  // Positions of the puts of each message first written in this batch, by client id and seq.
  let unwritten: Map<string, number[]> | undefined
  let dropped: Set<number> | undefined
  for (let index = 0; index < operations.length; index++) {
    const operation = operations[index]!
    if (operation.type === 'session.message.put') {
      const key = `${operation.record.clientId}\0${operation.record.seq}`
      if (operation.fresh === true) (unwritten ??= new Map()).set(key, [index])
      else unwritten?.get(key)?.push(index)
    } else if (operation.type === 'session.message.state') {
      unwritten?.get(`${operation.clientId}\0${operation.seq}`)?.push(index)
    } else if (operation.type === 'session.message.delete' && unwritten !== undefined) {
      const key = `${operation.clientId}\0${operation.seq}`
      const puts = unwritten.get(key)
      if (puts === undefined) continue
      unwritten.delete(key)
      dropped ??= new Set()
      for (const put of puts) dropped.add(put)
      dropped.add(index)
    }
  }
  return dropped === undefined ? operations : operations.filter((_, index) => !dropped.has(index))
}
