/** How the monitor's pages write numbers, sizes, rates and times. */

const integerFormat = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 })
const decimalFormat = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 })

/** 12,345 */
export function count (value: number): string {
  return integerFormat.format(value)
}

/** 1,234/s, with one decimal below 10 */
export function perSecond (value: number): string {
  return `${value < 10 ? decimalFormat.format(value) : integerFormat.format(value)}/s`
}

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB']

/** 1.5 MiB */
export function bytes (value: number): string {
  let unit = 0
  while (value >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024
    unit++
  }
  return `${unit === 0 ? integerFormat.format(value) : decimalFormat.format(value)} ${BYTE_UNITS[unit]}`
}

/** 3d 4h, 2h 5m, 4m 10s, 12s */
export function duration (seconds: number): string {
  const s = Math.max(0, Math.floor(seconds))
  const days = Math.floor(s / 86_400)
  const hours = Math.floor((s % 86_400) / 3600)
  const minutes = Math.floor((s % 3600) / 60)
  if (days > 0) return `${days}d ${hours}h`
  if (hours > 0) return `${hours}h ${minutes}m`
  if (minutes > 0) return `${minutes}m ${s % 60}s`
  return `${s}s`
}

/** 2026-11-25 03:14:07 UTC */
export function timestamp (epochMs: number): string {
  return new Date(epochMs).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC')
}

/** 45.2% */
export function percent (share: number): string {
  return `${decimalFormat.format(share * 100)}%`
}

/** 1.25 ms */
export function milliseconds (value: number): string {
  return `${value < 10 ? value.toFixed(2) : integerFormat.format(value)} ms`
}

/** 03:14:07.123 (UTC): for events a few milliseconds apart. */
export function clock (epochMs: number): string {
  return new Date(epochMs).toISOString().slice(11, 23)
}
