import type { LogEntry } from '../runtime/recent-logs.js'

export const LOG_LEVELS_SHOWN = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const
type LevelName = typeof LOG_LEVELS_SHOWN[number]

/** What the Logs page shows: lines at or above a level, containing a text (any case). */
export interface LogFilter {
  readonly level: LevelName
  readonly text: string
}

export function logFilterFrom (params: Readonly<Record<string, unknown>>): LogFilter {
  const level = LOG_LEVELS_SHOWN.includes(params.level as LevelName) ? params.level as LevelName : 'trace'
  return { level, text: typeof params.q === 'string' ? params.q.trim().slice(0, 200) : '' }
}

export function matchesLogFilter (entry: LogEntry, filter: LogFilter): boolean {
  const rank = LOG_LEVELS_SHOWN.indexOf(entry.level as LevelName)
  if (rank >= 0 && rank < LOG_LEVELS_SHOWN.indexOf(filter.level)) return false
  if (filter.text === '') return true
  const needle = filter.text.toLowerCase()
  return entry.message.toLowerCase().includes(needle) || entry.fields.toLowerCase().includes(needle)
}
