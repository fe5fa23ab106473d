import { clientRanges, messageKey, releaseKey, retainedKey, sessionKey, type KeyRange } from './level-keys.js'
import { encodeRelease, encodeRetained, encodeSession, encodeSessionMessage } from './record-encoding.js'
import { StoreError, type StoreOperation } from './store.js'

export type LevelWrite =
  | { readonly type: 'put', readonly key: string, readonly value: Buffer }
  | { readonly type: 'del', readonly key: string }

/** Lists the keys a range holds now. */
export type KeyLister = (range: KeyRange) => Promise<readonly string[]>

/**
 * Translates store operations into one LevelDB batch, which LevelDB writes atomically and in
 * order. Everything that can fail (encoding, an unknown operation, reading keys) fails here,
 * before anything is written, so a refused batch changes nothing.
 *
 * `session.delete` must remove a whole key range, but a LevelDB batch can only delete keys it
 * names, and `db.clear()` is a separate, non-atomic write. So the keys of the client's ranges
 * are listed first and deleted one by one inside the batch; that stays atomic with the rest
 * as long as nothing writes between the listing and the batch, which the store guarantees by
 * running its writes one at a time. Keys put earlier in this same batch are not on disk yet,
 * so they are deleted by name too. A session holds few messages, so listing them is cheap.
 */
export async function toLevelBatch (operations: readonly StoreOperation[], listKeys: KeyLister): Promise<LevelWrite[]> {
  const writes: LevelWrite[] = []
  const put = (key: string, value: Buffer): void => { writes.push({ type: 'put', key, value }) }
  const del = (key: string): void => { writes.push({ type: 'del', key }) }
  for (const operation of operations) {
    switch (operation.type) {
      case 'retained.put': put(retainedKey(operation.message.topic), encodeRetained(operation.message)); break
      case 'retained.delete': del(retainedKey(operation.topic)); break
      case 'session.put': put(sessionKey(operation.session.clientId), encodeSession(operation.session)); break
      case 'session.message.put': put(messageKey(operation.record.clientId, operation.record.seq), encodeSessionMessage(operation.record)); break
      case 'session.message.delete': del(messageKey(operation.clientId, operation.seq)); break
      case 'session.release.put': put(releaseKey(operation.clientId, operation.packetId), encodeRelease()); break
      case 'session.release.delete': del(releaseKey(operation.clientId, operation.packetId)); break
      case 'session.delete': {
        const ranges = clientRanges(operation.clientId)
        const inRanges = (key: string): boolean => ranges.some(range => key.startsWith(range.gte))
        const earlierPuts = writes.filter(write => write.type === 'put' && inRanges(write.key)).map(write => write.key)
        del(sessionKey(operation.clientId))
        for (const key of earlierPuts) del(key)
        for (const range of ranges) {
          for (const key of await listKeys(range)) del(key)
        }
        break
      }
      default: {
        const unknown: never = operation
        throw new StoreError(`unknown store operation ${JSON.stringify(unknown)}: this is a broker bug, please report it`)
      }
    }
  }
  return writes
}
