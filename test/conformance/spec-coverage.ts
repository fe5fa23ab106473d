import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * Which normative statements of an MQTT specification the tests cite. A test covers a rule
 * by naming its id in brackets, e.g. `[MQTT-3.1.0-1]`, in its test name.
 */
export interface SpecRule {
  readonly id: string
  readonly section: string
  readonly side: 'server' | 'client' | 'both'
  readonly summary: string
}

export interface Coverage {
  /** Rules that bind the server (side server or both). */
  readonly serverRules: readonly SpecRule[]
  readonly covered: readonly SpecRule[]
  readonly uncovered: readonly SpecRule[]
  readonly ratio: number
}

const root = fileURLToPath(new URL('../..', import.meta.url))
export const SPEC_DIR = join(root, '..', 'shared', 'spec')
export const CONFORMANCE_DOC = join(root, 'docs', 'conformance.md')

export function readRules (file: string): SpecRule[] {
  const [, ...rows] = readFileSync(join(SPEC_DIR, file), 'utf8').trim().split('\n')
  return rows.map(row => {
    const [id, section, side, summary] = row.split('\t')
    return { id: id!, section: section!, side: side as SpecRule['side'], summary: summary! }
  })
}

function testFiles (dir: string): string[] {
  return readdirSync(dir).flatMap(name => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return testFiles(path)
    return name.endsWith('.test.ts') ? [path] : []
  })
}

/** Every rule id cited in brackets in the test files, tagged by the suite's protocol. */
export function citedIds (tag: 'v3' | 'v5'): Set<string> {
  const ids = new Set<string>()
  for (const file of testFiles(join(root, 'test'))) {
    const text = readFileSync(file, 'utf8')
    // MQTT 5 tests live in files or suites that say so; both specs reuse ids for different rules.
    const isV5 = /mqtt-?5|v5/i.test(file)
    if ((tag === 'v5') !== isV5) continue
    for (const match of text.matchAll(/\[(MQTT-\d+\.\d+(?:\.\d+)?-\d+)\]/g)) ids.add(match[1]!)
  }
  return ids
}

export function coverage (file: string, tag: 'v3' | 'v5'): Coverage {
  const serverRules = readRules(file).filter(rule => rule.side !== 'client')
  const cited = citedIds(tag)
  const covered = serverRules.filter(rule => cited.has(rule.id))
  const uncovered = serverRules.filter(rule => !cited.has(rule.id))
  return { serverRules, covered, uncovered, ratio: covered.length / serverRules.length }
}

export function specAvailable (): boolean {
  return existsSync(SPEC_DIR)
}

/** The two statement lists and how tests tag them. */
export const SPECS = [
  { name: 'MQTT 3.1.1', file: 'mqtt-3.1.1-rules.tsv', tag: 'v3' },
  { name: 'MQTT 5.0', file: 'mqtt-5.0-rules.tsv', tag: 'v5' }
] as const

// `npm run conformance`: print the report.
if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const spec of SPECS) {
    const report = coverage(spec.file, spec.tag)
    console.log(`${spec.name}: ${report.covered.length} of ${report.serverRules.length} server rules cited by tests (${(report.ratio * 100).toFixed(1)}%)`)
    for (const rule of report.uncovered) console.log(`  not cited: ${rule.id}  ${rule.section}: ${rule.summary}`)
  }
}
