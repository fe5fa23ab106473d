import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { pino } from 'pino'
import * as assert from 'uvu/assert'
import { AuthProviderError, loadAuthProviders } from '../../runtime/auth/providers/load-auth-providers.js'
import { loadConfig } from '../../runtime/config/load-config.js'
import { configError, configSuite } from '../helpers/config-files.js'

/**
 * The `auth-providers`, `failed-login-limit` and `failed-login-ban` options through the real
 * loader (YAML file, flag, environment), their checks, and the module loader's refusals.
 */

const test = configSuite('config: auth providers and failed logins')


const silent = pino({ level: 'silent' })

async function rejection (promise: Promise<unknown>): Promise<Error> {
  try {
    await promise
  } catch (error) {
    return error as Error
  }
  throw new assert.Assertion({ message: 'expected a rejection', operator: 'rejects', actual: undefined, expects: Error, generated: false })
}

test('a YAML list in the config file: defaults filled in per type (timeout 5000 ms; cache 0 s for modules, 60 s for HTTP)', ({ dir }) => {
  const file = join(dir, 'config.yaml')
  writeFileSync(file, 'auth-providers:\n  - type: module\n    path: ./auth.js\n  - type: http\n    url: https://auth.example/mqtt\n    timeout: 800\n    headers:\n      authorization: Bearer abc\n')
  const { config } = loadConfig({ file })
  assert.equal(config.authProviders, [
    { type: 'module', path: './auth.js', timeoutMs: 5000, cacheSeconds: 0 },
    { type: 'http', url: 'https://auth.example/mqtt', timeoutMs: 800, cacheSeconds: 60, headers: { authorization: 'Bearer abc' } }
  ])
})

test('flow-style YAML in a flag and in the environment; the flag wins', () => {
  const { config } = loadConfig({
    flags: { 'auth-providers': '[{type: http, url: "http://127.0.0.1:9000/auth", cacheSeconds: 5}]' },
    env: { TROUPE_AUTH_PROVIDERS: '[{type: module, path: env.js}]' }
  })
  assert.is(config.authProviders.length, 1)
  assert.equal(config.authProviders[0], { type: 'http', url: 'http://127.0.0.1:9000/auth', timeoutMs: 5000, cacheSeconds: 5, headers: {} })
  assert.equal(loadConfig({ env: { TROUPE_AUTH_PROVIDERS: '[{type: module, path: env.js}]' } }).config.authProviders[0], { type: 'module', path: 'env.js', timeoutMs: 5000, cacheSeconds: 0 })
})

test('each bad entry is a ConfigError naming the entry\'s key and what is allowed', () => {
  const cases: Array<[string, RegExp]> = [
    ['[{type: ldap}]', /auth-providers\[0\]\.type.*module or http/],
    ['[{type: module}]', /auth-providers\[0\]\.path.*JavaScript or TypeScript module/],
    ['[{type: http, url: "ftp://x"}]', /auth-providers\[0\]\.url.*http:\/\/ or https:\/\//],
    ['[{type: http, url: "http://x", path: a.js}]', /auth-providers\[0\]\.path.*unknown key for a http provider/],
    ['[{type: module, path: a.js, timeout: 0}]', /auth-providers\[0\]\.timeout.*1 to 600000/],
    ['[{type: module, path: a.js, cacheSeconds: -1}]', /auth-providers\[0\]\.cacheSeconds/],
    ['[{type: http, url: "http://x", headers: [a]}]', /auth-providers\[0\]\.headers/],
    ['[{type: module, path: a.js', /auth-providers.*not valid YAML/]
  ]
  for (const [value, message] of cases) {
    assert.match(configError(() => loadConfig({ flags: { 'auth-providers': value } })).message, message, value)
  }
  assert.match(configError(() => loadConfig({ flags: { 'auth-providers': '{type: module, path: a.js}' } })).message, /expected a list/)
})

test('failed-login-limit and failed-login-ban: defaults 10 per minute and 60 s; 0 turns the limit off; bad values are refused', () => {
  const defaults = loadConfig({}).config
  assert.is(defaults.failedLoginLimit, 10)
  assert.is(defaults.failedLoginBan, 60)
  assert.is(loadConfig({ env: { TROUPE_FAILED_LOGIN_LIMIT: '0' } }).config.failedLoginLimit, 0)
  assert.match(configError(() => loadConfig({ flags: { 'failed-login-limit': '-1' } })).message, /failed-login-limit/)
  assert.match(configError(() => loadConfig({ flags: { 'failed-login-ban': '0' } })).message, /failed-login-ban.*1 to 86400/)
})

test('a module that cannot be loaded, or exports no check, stops the start with the path and what to do', async ({ dir }) => {
  const missing = join(dir, 'missing.mjs')
  const notFound = await rejection(loadAuthProviders([{ type: 'module', path: missing, timeoutMs: 1000, cacheSeconds: 0 }], silent))
  assert.instance(notFound, AuthProviderError)
  assert.ok(notFound.message.startsWith(`auth-providers[0]: cannot load the auth provider module ${missing}`), notFound.message)
  const empty = join(dir, 'empty.mjs')
  writeFileSync(empty, 'export const version = 1\n')
  assert.match((await rejection(loadAuthProviders([{ type: 'module', path: empty, timeoutMs: 1000, cacheSeconds: 0 }], silent))).message, /exports none of authenticate, authorizePublish, authorizeSubscribe/)
  const notFunction = join(dir, 'not-function.mjs')
  writeFileSync(notFunction, 'export const authenticate = "allow"\n')
  assert.match((await rejection(loadAuthProviders([{ type: 'module', path: notFunction, timeoutMs: 1000, cacheSeconds: 0 }], silent))).message, /exports authenticate, but not as a function/)
})

test('a CommonJS module\'s exports object is a provider too', async ({ dir }) => {
  const file = join(dir, 'provider.cjs')
  writeFileSync(file, 'module.exports = { authorizeSubscribe: () => "deny" }\n')
  const [link] = await loadAuthProviders([{ type: 'module', path: file, timeoutMs: 1000, cacheSeconds: 0 }], silent)
  assert.ok(link!.answers('authorizeSubscribe'))
  assert.not.ok(link!.answers('authenticate'))
  assert.is(await link!.authorizeSubscribe({ clientId: 'c', username: undefined, filter: 'x' }, 'key'), 'deny')
})

test.run()
