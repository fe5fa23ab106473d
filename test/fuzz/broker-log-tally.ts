import type { LogLine } from '../helpers/test-broker.js'

/** pino's level for "error": anything at or above it means the broker hit something it did not expect. */
const ERROR_LEVEL = 50

/**
 * What the broker's log says about a fuzz run: how many connections ended for each reason
 * (its "client disconnected" lines) and which errors it logged. The test broker keeps every
 * log line in memory; a long run writes hundreds of thousands, which would swamp the heap
 * being measured, so the tally takes lines out as it counts them.
 */
export class BrokerLogTally {
  readonly closeReasons: Record<string, number> = {}
  /** The first few error lines, kept whole for the report; `errorCount` has them all. */
  readonly errors: LogLine[] = []
  errorCount = 0

  /** Counts the lines logged since the last call, and removes them from `logs`. */
  absorb (logs: LogLine[]): void {
    for (const line of logs.splice(0)) {
      if (line.level >= ERROR_LEVEL) {
        this.errorCount++
        if (this.errors.length < 10) this.errors.push(line)
      }
      if (line.msg !== 'client disconnected') continue
      const reason = typeof line.reason === 'string' ? line.reason : 'unknown'
      this.closeReasons[reason] = (this.closeReasons[reason] ?? 0) + 1
    }
  }
}
