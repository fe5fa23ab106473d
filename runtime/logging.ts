import { pino, type DestinationStream, type Logger } from 'pino'
import type { LogLevel } from './config/options.js'

/** The broker's structured logger: JSON lines on stdout (or `destination`), one field set per event. */
export function createLogger (level: LogLevel, destination?: DestinationStream): Logger {
  return pino({ level, base: { service: 'troupe' } }, destination ?? pino.destination({ sync: false }))
}
