import { pino, type DestinationStream, type Logger } from 'pino'
import type { LogLevel } from './config/options.js'
import type { RecentLogs } from './recent-logs.js'

/**
 * The broker's structured logger: JSON lines on stdout (or `destination`), one field set per
 * event; with `recent`, every line is also kept there for the monitor's Logs page.
 */
export function createLogger (level: LogLevel, destination?: DestinationStream, recent?: RecentLogs): Logger {
  const out = destination ?? pino.destination({ sync: false })
  const stream = recent === undefined ? out : pino.multistream([{ stream: out, level: 'trace' }, { stream: recent, level: 'trace' }])
  return pino({ level, base: { service: 'troupe' } }, stream)
}
