import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { libargon2Hash } from '../helpers/libargon2.js'
import { cleanEnv, killAll, run, runCli, startCliBroker, type CliBroker, type RunResult } from '../helpers/processes.js'

/**
 * Security from the command line, end to end, with the real CLI (built in dist/) and
 * Mosquitto's own clients: `troupe passwd` writes a password file, `--password-file` makes
 * the broker check it (anonymous clients refused unless `--allow-anonymous true`), and
 * `--acl-file` takes a Mosquitto acl_file unchanged. Bad files stop the start with exit 2.
 */

const test = suite<{ dir: string }>('cli: password file, anonymous access and acl file')

test.before(context => { context.dir = mkdtempSync(join(tmpdir(), 'troupe-cli-security-')) })
test.after(context => { rmSync(context.dir, { recursive: true, force: true }) })
test.after.each(async () => { await killAll() })

const CLI = fileURLToPath(new URL('../../dist/runtime/cli.js', import.meta.url))
const ROOT = fileURLToPath(new URL('../..', import.meta.url))

async function passwd (file: string, user: string, password: string): Promise<RunResult> {
  return await run(process.execPath, [CLI, 'passwd', file, user, '--password-stdin'], { input: `${password}\n`, env: cleanEnv(), cwd: ROOT, timeoutMs: 20_000 })
}

/** mosquitto_pub of one QoS 1 message; its exit code says whether the broker let it in. */
async function publish (broker: CliBroker, topic: string, credentials: readonly string[] = []): Promise<RunResult> {
  return await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(broker.port), '-q', '1', '-t', topic, '-m', 'hello', ...credentials], { timeoutMs: 10_000 })
}

test('[MQTT-3.1.4-2] --password-file: the right password gets in, a wrong one or no user name does not', async ({ dir }) => {
  const file = join(dir, 'passwords')
  assert.is((await passwd(file, 'alice', 'wonderland')).code, 0)
  const broker = await startCliBroker(['--password-file', file])
  assert.is((await publish(broker, 'a', ['-u', 'alice', '-P', 'wonderland'])).code, 0, 'alice with her password')
  const wrong = await publish(broker, 'a', ['-u', 'alice', '-P', 'looking-glass'])
  assert.is.not(wrong.code, 0, 'a wrong password is refused')
  assert.match(wrong.stderr, /not authori[sz]ed|bad user ?name or password/i)
  assert.is.not((await publish(broker, 'a')).code, 0, 'no user name: anonymous access is off with a password file')
})

test('--password-file with an argon2id line (libargon2\'s encoded form, as Mosquitto 2.1 writes): mosquitto_pub logs in with its password only', async ({ dir }) => {
  const file = join(dir, 'argon2-passwords')
  writeFileSync(file, `modern:${libargon2Hash('memory-hard')}\n`, { mode: 0o600 })
  const broker = await startCliBroker(['--password-file', file])
  assert.is((await publish(broker, 'a', ['-u', 'modern', '-P', 'memory-hard'])).code, 0)
  assert.is.not((await publish(broker, 'a', ['-u', 'modern', '-P', 'memory-soft'])).code, 0)
})

test('--allow-anonymous true lets clients without a user name in beside the password file', async ({ dir }) => {
  const file = join(dir, 'passwords-anonymous')
  assert.is((await passwd(file, 'bob', 'builder')).code, 0)
  const broker = await startCliBroker(['--password-file', file, '--allow-anonymous', 'true'])
  assert.is((await publish(broker, 'a')).code, 0)
  assert.is.not((await publish(broker, 'a', ['-u', 'bob', '-P', 'wrong'])).code, 0, 'a user name with a wrong password is still refused')
})

test('--allow-anonymous false without a password file refuses every client', async () => {
  const broker = await startCliBroker(['--allow-anonymous', 'false'])
  assert.is.not((await publish(broker, 'a')).code, 0)
  assert.is.not((await publish(broker, 'a', ['-u', 'someone', '-P', 'anything'])).code, 0)
})

test('--acl-file reads a Mosquitto acl_file: a denied subscription gets SUBACK 0x80 from mosquitto_sub\'s view', async ({ dir }) => {
  const acl = join(dir, 'acl')
  writeFileSync(acl, '# anonymous clients\ntopic read public/#\ntopic write public/#\n')
  const broker = await startCliBroker(['--acl-file', acl])
  const denied = await run('mosquitto_sub', ['-h', '127.0.0.1', '-p', String(broker.port), '-t', 'private/#', '-C', '1', '-W', '2'], { timeoutMs: 10_000 })
  assert.match(denied.stderr + denied.stdout, /denied|refused|not authori[sz]ed|subscription/i, `mosquitto_sub reports the refusal: ${denied.stderr}`)
  assert.is((await publish(broker, 'public/news')).code, 0, 'an allowed publish goes through')
})

test('a malformed password file or acl file stops the start with one line and exit code 2', async ({ dir }) => {
  const badPasswords = join(dir, 'bad-passwords')
  writeFileSync(badPasswords, 'alice:plaintext-password\n')
  const passwords = await runCli(['--host', '127.0.0.1', '--port', '0', '--password-file', badPasswords])
  assert.is(passwords.code, 2)
  assert.is(passwords.stderr.trim().split('\n').length, 1)
  assert.match(passwords.stderr, /password-file/)
  assert.not.match(passwords.stderr, /plaintext-password/, 'the bad line is not echoed')
  const badAcl = join(dir, 'bad-acl')
  writeFileSync(badAcl, 'topic sometimes a/b\n')
  const acl = await runCli(['--host', '127.0.0.1', '--port', '0', '--acl-file', badAcl])
  assert.is(acl.code, 2)
  assert.is(acl.stderr.trim().split('\n').length, 1)
  assert.match(acl.stderr, /bad-acl:1/)
})

test('--auth-providers with a TypeScript module: the CLI on plain Node loads it, and it decides who gets in', async ({ dir }) => {
  const file = join(dir, 'auth.ts')
  writeFileSync(file, [
    "type Decision = 'allow' | 'deny' | 'ignore'",
    'export async function authenticate (request: { readonly username: string | undefined, readonly password: Buffer | undefined }): Promise<Decision> {',
    "  if (request.username !== 'alice') return 'deny'",
    "  return request.password?.toString() === 'wonderland' ? 'allow' : 'deny'",
    '}',
    ''
  ].join('\n'))
  const broker = await startCliBroker(['--auth-providers', `[{type: module, path: "${file}"}]`])
  assert.ok(broker.logs().some(line => line.msg === 'auth provider loaded' && line.provider === file))
  assert.is((await publish(broker, 'a', ['-u', 'alice', '-P', 'wonderland'])).code, 0, 'alice with her password')
  assert.is.not((await publish(broker, 'a', ['-u', 'alice', '-P', 'nope'])).code, 0, 'a wrong password')
  assert.is.not((await publish(broker, 'a')).code, 0, 'no user name: the module denies')
})

test('an auth provider module that does not exist stops the start with one line naming it, exit code 2', async ({ dir }) => {
  const missing = join(dir, 'nowhere.js')
  const result = await runCli(['--host', '127.0.0.1', '--port', '0', '--auth-providers', `[{type: module, path: "${missing}"}]`])
  assert.is(result.code, 2)
  assert.is(result.stderr.trim().split('\n').length, 1)
  assert.match(result.stderr, /auth-providers\[0\]: cannot load the auth provider module .*nowhere\.js.*\(auth-providers from --auth-providers\)/)
})

test.run()
