#!/usr/bin/env node
// Runs every test/**/*.test.ts file in its own Node process (through tsx), two at a time on
// this 2-core budget, and ends with one line "N passed, M failed" for CI to read.
// Usage: node test/run.mjs [substring ...]  (only files whose path contains a substring)
import { spawn } from 'node:child_process'
import { readdirSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const FILE_TIMEOUT_MS = 240_000
const CONCURRENCY = Number(process.env.TEST_CONCURRENCY ?? 2)

function findTests (dir) {
  return readdirSync(dir).flatMap(name => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return findTests(path)
    return name.endsWith('.test.ts') ? [path] : []
  })
}

const filters = process.argv.slice(2)
const files = findTests(join(root, 'test'))
  .map(path => relative(root, path))
  .filter(path => filters.length === 0 || filters.some(filter => path.includes(filter)))
  .sort()

function runFile (file) {
  return new Promise(resolve => {
    const started = Date.now()
    const child = spawn(process.execPath, ['--import', 'tsx', file], {
      cwd: root,
      env: { ...process.env, NODE_DISABLE_COLORS: '1', FORCE_COLOR: '0' },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let output = ''
    child.stdout.on('data', chunk => { output += chunk })
    child.stderr.on('data', chunk => { output += chunk })
    const timer = setTimeout(() => {
      output += `\n[runner] ${file} ran longer than ${FILE_TIMEOUT_MS / 1000}s and was killed\n`
      child.kill('SIGKILL')
    }, FILE_TIMEOUT_MS)
    child.on('close', code => {
      clearTimeout(timer)
      resolve({ file, code, output, seconds: (Date.now() - started) / 1000, ...summarise(output) })
    })
  })
}

/** Reads uvu's closing totals; a file that crashed before printing them counts as one failure. */
function summarise (output) {
  const number = label => {
    const match = output.match(new RegExp(`^\\s*${label}:\\s+(\\d+)`, 'm'))
    return match === null ? undefined : Number(match[1])
  }
  const total = number('Total')
  const passed = number('Passed')
  const skipped = number('Skipped') ?? 0
  if (total === undefined || passed === undefined) return { passed: 0, failed: 1, skipped: 0, crashed: true }
  return { passed, failed: total - passed - skipped, skipped, crashed: false }
}

const results = []
const queue = [...files]
async function worker () {
  for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
    const result = await runFile(file)
    results.push(result)
    const bad = result.failed > 0 || result.code !== 0
    const status = bad ? 'FAIL' : 'ok  '
    console.log(`${status} ${file}  ${result.passed} passed, ${result.failed} failed${result.skipped ? `, ${result.skipped} skipped` : ''}  (${result.seconds.toFixed(1)}s)`)
    if (bad) {
      if (result.failed === 0) result.failed = 1 // exited non-zero after passing: still a failure
      console.log(result.output.split('\n').map(line => `    ${line}`).join('\n'))
    }
  }
}
const started = Date.now()
await Promise.all(Array.from({ length: Math.min(CONCURRENCY, files.length) }, worker))

const passed = results.reduce((sum, r) => sum + r.passed, 0)
const failed = results.reduce((sum, r) => sum + r.failed, 0)
const skipped = results.reduce((sum, r) => sum + r.skipped, 0)
console.log(`\n${files.length} test files in ${((Date.now() - started) / 1000).toFixed(1)}s`)
if (files.length === 0) {
  console.log('no test files found')
  console.log('0 passed, 1 failed')
  process.exit(1)
}
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`)
process.exit(failed > 0 ? 1 : 0)
