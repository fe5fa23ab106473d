import { readFileSync } from 'node:fs'

/**
 * Summarises a V8 .cpuprofile (from `node --cpu-prof`, e.g. a broker run with
 * `npm run bench -- --node-args=--cpu-prof`): the functions with the most self time.
 * Usage: node --import tsx bench/profile-summary.ts FILE.cpuprofile [TOP]
 */
interface ProfileNode {
  readonly id: number
  readonly callFrame: { readonly functionName: string, readonly url: string, readonly lineNumber: number }
}

interface Profile {
  readonly nodes: readonly ProfileNode[]
  readonly samples: readonly number[]
  readonly timeDeltas: readonly number[]
}

const [file, topText] = process.argv.slice(2)
if (file === undefined) {
  console.error('usage: profile-summary.ts FILE.cpuprofile [TOP]')
  process.exit(2)
}
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile
const byId = new Map(profile.nodes.map(node => [node.id, node]))
const selfMicros = new Map<string, number>()
const fileMicros = new Map<string, number>()
let total = 0
profile.samples.forEach((id, index) => {
  const node = byId.get(id)
  const delta = profile.timeDeltas[index] ?? 0
  if (node === undefined) return
  const { functionName, url, lineNumber } = node.callFrame
  const where = url === '' ? '' : ` ${shortPath(url)}:${lineNumber + 1}`
  const key = `${functionName === '' ? '(anonymous)' : functionName}${where}`
  selfMicros.set(key, (selfMicros.get(key) ?? 0) + delta)
  // By file too: spreads like GC-heavy code or a dependency's many small functions show up there.
  const fileKey = url === '' ? (functionName.startsWith('(') ? functionName : `(${functionName === '' ? 'native' : functionName})`) : url.startsWith('node:') ? 'node: internals' : shortPath(url)
  fileMicros.set(fileKey, (fileMicros.get(fileKey) ?? 0) + delta)
  total += delta
})
/** What identifies a file: its package inside node_modules, or its path inside the repository. */
function shortPath (url: string): string {
  const packaged = url.lastIndexOf('/node_modules/')
  if (packaged >= 0) return url.slice(packaged + 1)
  const built = url.indexOf('/dist/')
  return built >= 0 ? url.slice(built + 1) : url.replace(/^file:\/\//, '')
}

function print (title: string, entries: Map<string, number>): void {
  const top = [...entries.entries()].sort((a, b) => b[1] - a[1]).slice(0, Number(topText ?? 25))
  console.log(`| self % | self ms | ${title} |\n| ---: | ---: | --- |`)
  for (const [key, micros] of top) {
    console.log(`| ${(micros / total * 100).toFixed(1)} | ${(micros / 1000).toFixed(0)} | \`${key}\` |`)
  }
}
print('function', selfMicros)
console.log('')
print('file', fileMicros)
