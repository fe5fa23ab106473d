import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { setTimeout as sleep } from 'node:timers/promises'

/**
 * V8's garbage collector on demand. Under `node --expose-gc` it is the global `gc`; without
 * the flag (test/run.mjs starts each test file with only `--import tsx`) it is exposed at
 * run time: the flag, set now, applies to contexts created afterwards, so a fresh context
 * hands out its `gc`.
 */
function collector (): () => void {
  const global = globalThis as { gc?: () => void }
  if (typeof global.gc === 'function') return global.gc
  setFlagsFromString('--expose-gc')
  return runInNewContext('gc') as () => void
}

const collectGarbage = collector()

/** heapUsed after full collections, with pauses so that closing sockets and timers can let go first. */
export async function settledHeapUsed (): Promise<number> {
  for (let round = 0; round < 3; round++) {
    await sleep(100)
    collectGarbage()
  }
  return process.memoryUsage().heapUsed
}
