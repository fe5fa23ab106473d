import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { ConfigError } from '../../runtime/config/config-error.js'
import { loadConfig } from '../../runtime/config/load-config.js'
import { OPTIONS } from '../../runtime/config/options.js'

/** The scram-users option through the real loader: flag, environment, YAML file, default. */

const test = suite<{ dir: string }>('config: scram-users')

test.before(context => { context.dir = mkdtempSync(join(tmpdir(), 'troupe-config-')) })
test.after(context => { rmSync(context.dir, { recursive: true, force: true }) })

test('follows the naming of every other option', () => {
  assert.is(OPTIONS.scramUsers.name, 'scram-users')
  assert.is(OPTIONS.scramUsers.env, 'TROUPE_SCRAM_USERS')
  assert.is(OPTIONS.scramUsers.valueHint, 'FILE')
})

test('default: none', () => {
  const loaded = loadConfig({})
  assert.is(loaded.config.scramUsers, undefined)
  assert.is(loaded.sources.scramUsers, 'default')
})

test('from the YAML file, the environment and a flag, the flag winning', ({ dir }) => {
  const file = join(dir, 'config.yaml')
  writeFileSync(file, 'scram-users: /from/file\n')
  assert.is(loadConfig({ file }).config.scramUsers, '/from/file')
  assert.is(loadConfig({ file }).sources.scramUsers, 'file')
  const fromEnv = loadConfig({ file, env: { TROUPE_SCRAM_USERS: 'relative/from-env' } })
  assert.is(fromEnv.config.scramUsers, 'relative/from-env')
  assert.is(fromEnv.sources.scramUsers, 'env')
  const fromFlag = loadConfig({ file, env: { TROUPE_SCRAM_USERS: '/from/env' }, flags: { 'scram-users': '/from/flag' } })
  assert.is(fromFlag.config.scramUsers, '/from/flag')
  assert.is(fromFlag.sources.scramUsers, 'flag')
})

test('a value that is not a path is a ConfigError naming the option and where it came from', ({ dir }) => {
  const file = join(dir, 'bad.yaml')
  writeFileSync(file, 'scram-users: 42\n')
  const cases: Array<[() => unknown, string]> = [
    [() => loadConfig({ flags: { 'scram-users': '' } }), '--scram-users'],
    [() => loadConfig({ env: { TROUPE_SCRAM_USERS: '  ' } }), 'TROUPE_SCRAM_USERS'],
    [() => loadConfig({ file }), file]
  ]
  for (const [load, source] of cases) {
    try {
      load()
      assert.unreachable(`no error from ${source}`)
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error
      assert.is(error.key, 'scram-users')
      assert.is(error.source, source)
      assert.match(error.message, /expected the path of a file/)
    }
  }
})

test.run()
