import { ConfigError } from './config-error.js'

/** Bytes of memory, or a percentage of the memory the process may use; 0 bytes is off. */
export type MemoryWatermarkSetting = number | `${number}%`

const ALLOWED = 'expected a whole number of bytes (0 turns it off) or a percentage of the memory available, from 1% to 100%, such as 80%'

/** The `memory-watermark` option: `536870912` (bytes), `80%`, or `0`. */
export function parseMemoryWatermark (raw: unknown, source: string): MemoryWatermarkSetting {
  if (typeof raw === 'number') {
    if (Number.isSafeInteger(raw) && raw >= 0) return raw
    throw new ConfigError('memory-watermark', raw, ALLOWED, source)
  }
  if (typeof raw !== 'string') throw new ConfigError('memory-watermark', raw, ALLOWED, source)
  const text = raw.trim()
  if (/^\d+$/.test(text) && Number.isSafeInteger(Number(text))) return Number(text)
  const percent = /^(\d+(?:\.\d+)?)\s*%$/.exec(text)
  if (percent !== null) {
    const value = Number(percent[1])
    if (value >= 1 && value <= 100) return `${value}%`
  }
  throw new ConfigError('memory-watermark', raw, ALLOWED, source)
}
