// Run as its own process by level-store.test.ts: opens a LevelStore on the directory given as
// the first argument and prints the outcome as one JSON line, so the test can check LevelDB's
// lock between two processes (within one process LevelDB only checks its own lock table).
import { LevelStore } from '../../persistence/level-store.js'

const directory = process.argv[2]
if (directory === undefined) throw new Error('usage: open-level-store-process.ts <directory>')
const store = new LevelStore({ directory, durability: 'os' })
try {
  await store.open()
  await store.close()
  console.log(JSON.stringify({ opened: true }))
} catch (error) {
  console.log(JSON.stringify({ opened: false, name: (error as Error).name, message: (error as Error).message }))
}
