import { readFileSync } from 'node:fs'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { CONFORMANCE_DOC, coverage, SPECS } from './spec-coverage.js'

const test = suite('spec coverage')

for (const spec of SPECS) {
  test(`tests cite at least 90% of the ${spec.name} statements that bind the server`, () => {
    const report = coverage(spec.file, spec.tag)
    assert.ok(report.ratio >= 0.9, `${report.covered.length}/${report.serverRules.length} cited; uncited: ${report.uncovered.map(r => r.id).join(', ')}`)
  })

  test(`every uncited ${spec.name} server statement is explained in docs/conformance.md`, () => {
    const doc = readFileSync(CONFORMANCE_DOC, 'utf8')
    const section = doc.slice(doc.indexOf(`## ${spec.name}`))
    const unexplained = coverage(spec.file, spec.tag).uncovered.filter(rule => !section.includes(rule.id))
    assert.equal(unexplained.map(rule => rule.id), [])
  })
}

test.run()
