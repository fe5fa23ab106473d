/**
 * Runs `task(0..count-1)` with at most `parallel` running at once, in index order; rejects on
 * the first failure (tasks already started finish on their own).
 */
export async function forEachConcurrently (count: number, parallel: number, task: (index: number) => Promise<void>): Promise<void> {
  let next = 0
  const lane = async (): Promise<void> => {
    while (next < count) await task(next++)
  }
  await Promise.all(Array.from({ length: Math.min(parallel, count) }, lane))
}
