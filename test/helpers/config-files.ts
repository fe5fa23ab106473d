import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { suite, type Test } from 'uvu'
import * as assert from 'uvu/assert'
import { ConfigError } from '../../runtime/config/config-error.js'

/** A suite of configuration tests, each with `context.dir`, a temporary directory for config files, removed after. */
export function configSuite (name: string): Test<{ dir: string }> {
  const test = suite<{ dir: string }>(name)
  test.before(context => { context.dir = mkdtempSync(join(tmpdir(), 'troupe-config-')) })
  test.after(context => { rmSync(context.dir, { recursive: true, force: true }) })
  return test
}

let files = 0

/** Writes `text` to a new YAML file in `dir` and returns its path. */
export function yamlFile (dir: string, text: string): string {
  const file = join(dir, `config-${++files}.yaml`)
  writeFileSync(file, text)
  return file
}

/** The ConfigError `load` throws; fails the test when it throws nothing, or something else. */
export function configError (load: () => unknown): ConfigError {
  try {
    load()
  } catch (error) {
    assert.instance(error, ConfigError)
    return error as ConfigError
  }
  throw new assert.Assertion({ message: 'expected a ConfigError', operator: 'throws', actual: undefined, expects: ConfigError, generated: false })
}
