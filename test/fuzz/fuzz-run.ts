import { playScript } from './hostile-connection.js'
import { hostileScript } from './hostile-script.js'
import { SeededRandom } from './seeded-random.js'

export interface FuzzOptions {
  readonly port: number
  /** Packets (whole, broken or random) to send in all. */
  readonly packets: number
  readonly seed: number
  /** Connections open at the same time. */
  readonly connections: number
  /** How long a connection the broker keeps open is given to be closed before the fuzzer cuts it. */
  readonly lingerMs?: number
  /** Called now and then with the packets sent so far. */
  readonly onProgress?: (report: FuzzReport) => void
}

export interface FuzzReport {
  packetsSent: number
  bytesSent: number
  connectionsOpened: number
  /** Connections that could not be made at all (refused, no free port). */
  connectFailures: number
  closedByBroker: number
  /** Connections the broker still held open at the end of their linger time. */
  timedOut: number
  seconds: number
}

const MAX_CONNECT_FAILURES_IN_A_ROW = 200

/**
 * Runs connection after connection of hostile scripts against a broker, `connections` at a
 * time, until `packets` have been sent. Connection n's script and choices come from
 * (seed, n) alone, so a seed replays the same bytes on every connection.
 */
export async function fuzz (options: FuzzOptions): Promise<FuzzReport> {
  const started = performance.now()
  const report: FuzzReport = { packetsSent: 0, bytesSent: 0, connectionsOpened: 0, connectFailures: 0, closedByBroker: 0, timedOut: 0, seconds: 0 }
  let nextConnection = 0
  let packetsPlanned = 0
  let lastProgress = 0
  let failuresInARow = 0
  const worker = async (): Promise<void> => {
    // A broker that refuses every connection has stopped serving: no point in going on.
    while (packetsPlanned < options.packets && failuresInARow < MAX_CONNECT_FAILURES_IN_A_ROW) {
      const random = SeededRandom.forStream(options.seed, nextConnection++)
      const script = hostileScript(random, options.packets - packetsPlanned)
      packetsPlanned += script.packets.length
      const outcome = await playScript(options.port, script, random, options.lingerMs ?? 300)
      // Packets a closed connection never got to send go back into the budget.
      packetsPlanned -= script.packets.length - outcome.packetsSent
      report.packetsSent += outcome.packetsSent
      report.bytesSent += outcome.bytesSent
      if (outcome.connected) report.connectionsOpened++
      else report.connectFailures++
      failuresInARow = outcome.connected ? 0 : failuresInARow + 1
      if (outcome.closedByBroker) report.closedByBroker++
      if (outcome.timedOut) report.timedOut++
      if (options.onProgress !== undefined && report.packetsSent - lastProgress >= 50_000) {
        lastProgress = report.packetsSent
        options.onProgress({ ...report, seconds: (performance.now() - started) / 1000 })
      }
    }
  }
  await Promise.all(Array.from({ length: options.connections }, worker))
  report.seconds = (performance.now() - started) / 1000
  return report
}
