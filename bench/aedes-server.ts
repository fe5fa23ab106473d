import { createServer } from 'node:net'
import { Aedes } from 'aedes'

/**
 * Aedes has no CLI of its own in its package: this is the smallest server around it, an
 * in-memory broker with default options on a plain TCP listener, as its README shows.
 * Usage: node --import tsx bench/aedes-server.ts PORT
 */
const port = Number(process.argv[2])
if (!Number.isInteger(port) || port <= 0) {
  console.error('usage: aedes-server.ts PORT')
  process.exit(2)
}

const broker = await Aedes.createBroker()
const server = createServer(broker.handle)
server.listen(port, '127.0.0.1')

// Exit through process.exit so that `--cpu-prof`, when given, gets to write its profile.
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    server.close()
    broker.close(() => process.exit(0))
    setTimeout(() => process.exit(0), 500).unref()
  })
}
