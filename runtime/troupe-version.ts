import { readFileSync } from 'node:fs'

/** Troupe's version, from its package.json (two levels above the built file, as above the source). */
export function troupeVersion (): string {
  for (const candidate of ['../../package.json', '../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(candidate, import.meta.url), 'utf8')) as { name?: string, version?: string }
      if (pkg.name === 'troupe' && typeof pkg.version === 'string') return pkg.version
    } catch {
      // Not this one: try the next.
    }
  }
  return 'unknown'
}
