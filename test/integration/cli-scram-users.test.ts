import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Packet } from 'mqtt-packet'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { SCRAM_SHA_256 } from '../../actors/connection/auth-methods/scram-sha-256.js'
import { cleanEnv, killAll, run, startCliBroker, type RunResult } from '../helpers/processes.js'
import { RawClient } from '../helpers/raw-client.js'
import { ScramClient } from '../helpers/scram-client.js'

/**
 * SCRAM-SHA-256 from the command line, end to end: `troupe scram-user FILE USER
 * --password-stdin` writes the credentials file, `troupe --scram-users FILE` (the real CLI
 * process, built in dist/) lets MQTT 5 clients log in with it, and a bad file stops the start.
 */

const test = suite<{ dir: string }>('cli: scram-user and --scram-users')

test.before(context => { context.dir = mkdtempSync(join(tmpdir(), 'troupe-cli-scram-')) })
test.after(context => { rmSync(context.dir, { recursive: true, force: true }) })
test.after.each(async () => {
  RawClient.closeAll()
  await killAll()
})

const CLI = fileURLToPath(new URL('../../dist/runtime/cli.js', import.meta.url))
const ROOT = fileURLToPath(new URL('../..', import.meta.url))

/** Runs `troupe scram-user ...args` with `input` on stdin. */
async function scramUser (args: readonly string[], input: string): Promise<RunResult> {
  return await run(process.execPath, [CLI, 'scram-user', ...args], { input, env: cleanEnv(), cwd: ROOT, timeoutMs: 10_000 })
}

let files = 0
function path (dir: string): string {
  return join(dir, `users-${++files}`)
}

function stderrLines (result: RunResult): string[] {
  return result.stderr.split('\n').filter(line => line.trim().length > 0)
}

/** CONNECT with SCRAM's client-first, the client-final for the broker's challenge, and the CONNACK. */
async function scramLogin (port: number, scram: ScramClient): Promise<{ client: RawClient, connack: Extract<Packet, { cmd: 'connack' }> }> {
  const client = await RawClient.connect(port, 5)
  client.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clean: true, clientId: `scram-${scram.username}`, keepalive: 60, properties: { authenticationMethod: SCRAM_SHA_256, authenticationData: scram.clientFirst() } })
  const challenge = await client.next('auth')
  assert.is(challenge.reasonCode, 0x18, 'AUTH 0x18 Continue authentication')
  client.send({ cmd: 'auth', reasonCode: 0x18, properties: { authenticationMethod: SCRAM_SHA_256, authenticationData: scram.clientFinal(challenge.properties!.authenticationData!) } })
  return { client, connack: await client.next('connack') }
}

test('scram-user creates the file with mode 0600, never prints the password, and changes a user in place', async ({ dir }) => {
  const file = path(dir)
  const added = await scramUser([file, 'alice', '--password-stdin'], 'correct horse battery staple\n')
  assert.is(added.code, 0, added.stderr)
  assert.is(added.stdout.trim(), `added user "alice" to ${file}`)
  assert.is(added.stderr, '')
  assert.is(statSync(file).mode & 0o777, 0o600)
  const first = readFileSync(file, 'utf8')
  assert.match(first, /^alice:SCRAM-SHA-256\$4096:[A-Za-z0-9+/]+=*\$[A-Za-z0-9+/]{43}=:[A-Za-z0-9+/]{43}=\n$/)

  // Comments and other users stay; alice's line is replaced where it is.
  writeFileSync(file, `# broker users\n${first}\n# more below\n`)
  const bob = await scramUser([file, 'bob', '--password-stdin'], 'builder')
  assert.is(bob.code, 0, bob.stderr)
  const changed = await scramUser([file, 'alice', '--password-stdin'], 'correct horse battery staple\n')
  assert.is(changed.code, 0, changed.stderr)
  assert.is(changed.stdout.trim(), `changed the password of user "alice" in ${file}`)
  const lines = readFileSync(file, 'utf8').split('\n')
  assert.is(lines.length, 6, lines.join('\n'))
  assert.is(lines[0], '# broker users')
  assert.ok(lines[1]!.startsWith('alice:SCRAM-SHA-256$4096:') && lines[1] !== first.trim(), 'alice has new credentials (a new salt) on the same line')
  assert.is(lines[2], '')
  assert.is(lines[3], '# more below')
  assert.ok(lines[4]!.startsWith('bob:SCRAM-SHA-256$4096:'))
  assert.is(lines[5], '')
  assert.is(statSync(file).mode & 0o777, 0o600, 'the mode is kept')

  for (const result of [added, bob, changed]) {
    const output = result.stdout + result.stderr
    assert.not.ok(output.includes('correct horse') || output.includes('builder'), `no password in the output: ${output}`)
  }
})

test('scram-user refuses, exiting non-zero and changing nothing: an empty password, a bad user name, a broken file, no terminal', async ({ dir }) => {
  const file = path(dir)
  writeFileSync(file, '# nobody yet\n')
  const empty = await scramUser([file, 'alice', '--password-stdin'], '\n')
  assert.is(empty.code, 1)
  assert.match(empty.stderr, /password is empty/)
  const colon = await scramUser([file, 'al:ice', '--password-stdin'], 'pw\n')
  assert.is(colon.code, 2)
  assert.match(colon.stderr, /cannot contain ":"/)
  const noTerminal = await scramUser([file, 'alice'], 'pw\n')
  assert.is(noTerminal.code, 2)
  assert.match(noTerminal.stderr, /--password-stdin/)
  assert.is(readFileSync(file, 'utf8'), '# nobody yet\n')

  const broken = path(dir)
  writeFileSync(broken, 'carol:hunter2\n')
  const refused = await scramUser([broken, 'alice', '--password-stdin'], 'pw\n')
  assert.is(refused.code, 2)
  assert.equal(stderrLines(refused), [`troupe: ${broken}:1: user "carol": the credentials do not start with "SCRAM-SHA-256$"; expected user:SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>; fix or remove that line first`])
  assert.is(readFileSync(broken, 'utf8'), 'carol:hunter2\n')
})

test('--scram-users: the right password connects (and the server proves itself), a wrong one and an unknown user get CONNACK 0x86', async ({ dir }) => {
  const file = path(dir)
  const written = await scramUser([file, 'alice', '--password-stdin'], 'wonderland\n')
  assert.is(written.code, 0, written.stderr)
  const cli = await startCliBroker(['--scram-users', file])
  assert.ok(cli.logs().some(line => line.msg === 'SCRAM-SHA-256 enabled' && line.users === 1 && line.file === file), 'the start is logged with the user count')

  const right = new ScramClient('alice', 'wonderland')
  const ok = await scramLogin(cli.port, right)
  assert.is(ok.connack.reasonCode, 0)
  assert.is(ok.connack.properties?.authenticationMethod, SCRAM_SHA_256)
  assert.ok(right.verifiesServerFinal(ok.connack.properties?.authenticationData), 'the broker knows alice\'s ServerKey')
  ok.client.send({ cmd: 'pingreq' })
  await ok.client.next('pingresp')

  const wrong = await scramLogin(cli.port, new ScramClient('alice', 'looking glass'))
  assert.is(wrong.connack.reasonCode, 0x86)
  assert.ok(await wrong.client.closesWithin(2000))
  const unknown = await scramLogin(cli.port, new ScramClient('mallory', 'wonderland'))
  assert.is(unknown.connack.reasonCode, 0x86)
  assert.ok(await unknown.client.closesWithin(2000))

  assert.ok(cli.process.running)
  assert.not.ok(cli.process.stdout.includes('wonderland'), 'no password in the log')
})

test('TROUPE_SCRAM_USERS enables SCRAM-SHA-256 too', async ({ dir }) => {
  const file = path(dir)
  assert.is((await scramUser([file, 'bob', '--password-stdin'], 'builder\n')).code, 0)
  const cli = await startCliBroker([], { TROUPE_SCRAM_USERS: file })
  assert.is((await scramLogin(cli.port, new ScramClient('bob', 'builder'))).connack.reasonCode, 0)
})

test('without --scram-users, SCRAM-SHA-256 is not offered (CONNACK 0x8C)', async () => {
  const cli = await startCliBroker()
  const client = await RawClient.connect(cli.port, 5)
  client.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clean: true, clientId: 'x', keepalive: 60, properties: { authenticationMethod: SCRAM_SHA_256, authenticationData: new ScramClient('alice', 'pw').clientFirst() } })
  assert.is((await client.next('connack')).reasonCode, 0x8c)
})

interface BadFile {
  readonly name: string
  /** The file's text, or undefined for no file at all. */
  readonly text: string | undefined
  readonly says: (file: string) => string
}

const BAD_FILES: BadFile[] = [
  { name: 'a missing file', text: undefined, says: file => `troupe: invalid scram-users "${file}" (from --scram-users): cannot read the file (ENOENT); give the path of a SCRAM credentials file` },
  { name: 'a plain password', text: '# users\n\ncarol:hunter2\n', says: file => `troupe: invalid scram-users "${file}" (from --scram-users): line 3: user "carol": the credentials do not start with "SCRAM-SHA-256$"; expected user:SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>` },
  { name: 'a short StoredKey', text: `dave:SCRAM-SHA-256$4096:c2FsdHNhbHQ=$${Buffer.alloc(16, 1).toString('base64')}:${Buffer.alloc(32, 2).toString('base64')}\n`, says: file => `troupe: invalid scram-users "${file}" (from --scram-users): line 1: user "dave": the StoredKey is not base64 of 32 bytes` }
]

for (const bad of BAD_FILES) {
  test(`--scram-users with ${bad.name}: exits 2 with one stderr line naming the file and the line, and starts nothing`, async ({ dir }) => {
    const file = path(dir)
    if (bad.text !== undefined) writeFileSync(file, bad.text)
    const result = await run(process.execPath, [CLI, '--host', '127.0.0.1', '--port', '0', '--scram-users', file], { env: cleanEnv(), cwd: ROOT, timeoutMs: 10_000 })
    assert.is(result.code, 2, `exit code\n${result.stdout}${result.stderr}`)
    assert.equal(stderrLines(result), [bad.says(file)])
    assert.is(result.stdout, '', 'no broker log')
    assert.not.ok(result.stderr.includes('hunter2') || result.stderr.includes('AQEBAQ') || result.stderr.includes('c2FsdHNhbHQ'), 'no secret repeated')
  })
}

test.run()
