import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { pino } from 'pino'
import { Broker } from '../../runtime/broker.js'
import { loadConfig } from '../../runtime/config/load-config.js'

/**
 * Connection churn soak: clients connect, subscribe, publish and leave, batch after batch,
 * and the broker's heap must come back to where it was. Reports the heap growth per
 * connection cycle after a warm-up batch and fails (exit 1) above `--limit` bytes.
 * Run: npm run soak:churn -- --cycles 8000
 */
const { values } = parseArgs({ options: { cycles: { type: 'string', default: '4000' }, batches: { type: 'string', default: '3' }, limit: { type: 'string', default: '64' } } })
const cycles = Number(values.cycles)
const batches = Number(values.batches)
const limit = Number(values.limit)
const gc = globalThis.gc
if (gc === undefined) throw new Error('run with node --expose-gc (npm run soak:churn does)')

const { config } = loadConfig({})
const broker = await Broker.start({ config: { ...config, host: '127.0.0.1', port: 0 }, log: pino({ level: 'silent' }) })
const client = fileURLToPath(new URL('./churn-client.mjs', import.meta.url))

async function churn (count: number): Promise<number> {
  await new Promise((resolve, reject) => {
    spawn(process.execPath, [client, `mqtt://127.0.0.1:${broker.port}`, String(count)], { stdio: 'inherit' })
      .on('exit', code => code === 0 ? resolve(undefined) : reject(new Error(`churn client exited with ${String(code)}`)))
  })
  gc!()
  await new Promise(resolve => setTimeout(resolve, 1500))
  gc!()
  return process.memoryUsage().heapUsed
}

let previous = await churn(Math.min(cycles, 1000))
const growth: number[] = []
for (let batch = 0; batch < batches; batch++) {
  const heap = await churn(cycles)
  growth.push((heap - previous) / cycles)
  previous = heap
}
await broker.close()
const worst = Math.max(...growth)
console.log(`heap growth per connection cycle, ${batches} batches of ${cycles}: ${growth.map(g => g.toFixed(1)).join(', ')} bytes; connections left ${broker.connections.size}, sessions left ${broker.sessions.size}`)
// One batch can grow while V8 settles; a leak grows in every batch.
const leaking = growth.every(g => g > limit)
console.log(leaking ? `LEAK: every batch grew more than ${limit} bytes per cycle (worst ${worst.toFixed(1)})` : 'no steady growth')
process.exit(leaking ? 1 : 0)
