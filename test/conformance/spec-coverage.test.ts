import { readFileSync } from 'node:fs'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { CONFORMANCE_DOC, coverage } from './spec-coverage.js'

const test = suite('spec coverage')

test('tests cite at least 90% of the MQTT 3.1.1 statements that bind the server', () => {
  const report = coverage('mqtt-3.1.1-rules.tsv', 'v3')
  assert.ok(report.ratio >= 0.9, `${report.covered.length}/${report.serverRules.length} cited; uncited: ${report.uncovered.map(r => r.id).join(', ')}`)
})

test('every uncited MQTT 3.1.1 server statement is explained in docs/conformance.md', () => {
  const doc = readFileSync(CONFORMANCE_DOC, 'utf8')
  const unexplained = coverage('mqtt-3.1.1-rules.tsv', 'v3').uncovered.filter(rule => !doc.includes(rule.id))
  assert.equal(unexplained.map(rule => rule.id), [])
})

test.run()
