/** One log line as the monitor shows it. */
export interface LogEntry {
  /** Counts up from 1 over the process's life: a live tail asks for what came after the last it has. */
  readonly id: number
  /** Epoch ms. */
  readonly time: number
  /** pino's level name: trace, debug, info, warn, error, fatal. */
  readonly level: string
  readonly message: string
  /** The line's other fields, as `key=value` pairs. */
  readonly fields: string
}

/** The last lines kept. */
const CAPACITY = 2000

const LEVEL_NAMES: Readonly<Record<number, string>> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' }

/**
 * The broker's last log lines, for the monitor's Logs page: a pino destination beside stdout
 * that keeps the raw JSON lines in a ring and parses one only when someone reads it.
 */
export class RecentLogs {
  private readonly lines: string[] = []
  private firstId = 1
  private readonly listeners = new Set<(entry: LogEntry) => void>()

  /** pino's destination interface. */
  write (line: string): void {
    this.lines.push(line)
    if (this.lines.length > CAPACITY) {
      this.lines.shift()
      this.firstId++
    }
    if (this.listeners.size === 0) return
    const entry = parse(line, this.firstId + this.lines.length - 1)
    for (const listener of this.listeners) listener(entry)
  }

  /** The kept lines after `afterId` (all by default), oldest first. */
  entries (afterId = 0): LogEntry[] {
    const start = Math.max(0, afterId + 1 - this.firstId)
    return this.lines.slice(start).map((line, index) => parse(line, this.firstId + start + index))
  }

  /** Calls `listener` with each new line until the returned function is called. */
  subscribe (listener: (entry: LogEntry) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }
}

function parse (line: string, id: number): LogEntry {
  try {
    const { level, time, msg, pid: _pid, hostname: _hostname, service: _service, ...rest } = JSON.parse(line) as Record<string, unknown>
    return {
      id,
      time: typeof time === 'number' ? time : Date.now(),
      level: LEVEL_NAMES[level as number] ?? String(level),
      message: typeof msg === 'string' ? msg : '',
      fields: Object.entries(rest).map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`).join('  ')
    }
  } catch {
    return { id, time: Date.now(), level: 'info', message: line.trim(), fields: '' }
  }
}
