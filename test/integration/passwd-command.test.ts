import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync, chmodSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { userInfo } from 'node:os'
import { Readable } from 'node:stream'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { parsePasswordFile } from '../../runtime/auth/password-file.js'
import { passwordMatches } from '../../runtime/auth/password-hash.js'
import { passwdCommand } from '../../runtime/passwd-command.js'
import { freePorts } from '../helpers/free-ports.js'
import { killAll, run, spawnTracked } from '../helpers/processes.js'

/**
 * `troupe passwd`, called as the CLI will call it, on real files: what it writes is a Mosquitto
 * password file (our parser and the real mosquitto_passwd both read it), edits keep every other
 * line, -D removes a user, and every refusal changes nothing.
 */

const test = suite<{ dir: string }>('passwd command')
test.before(context => { context.dir = mkdtempSync(join(tmpdir(), 'troupe-passwd-')) })
test.after(context => { rmSync(context.dir, { recursive: true, force: true }) })
test.after.each(async () => { await killAll() })

const MOSQUITTO_PASSWD = '/usr/bin/mosquitto_passwd'
const MOSQUITTO = '/usr/sbin/mosquitto'
const MOSQUITTO_PUB = '/usr/bin/mosquitto_pub'

let files = 0
function path (dir: string): string {
  return join(dir, `passwords-${++files}`)
}

/** `troupe passwd ...args --password-stdin` with `typed` on stdin. */
async function passwd (args: readonly string[], typed: string): Promise<{ code: number, message: string }> {
  return await passwdCommand([...args, '--password-stdin'], Readable.from([Buffer.from(typed)]))
}

async function verifies (file: string, username: string, password: string): Promise<boolean> {
  const hash = parsePasswordFile(readFileSync(file, 'utf8'), file).get(username)
  return hash !== undefined && await passwordMatches(Buffer.from(password, 'utf8'), hash)
}

test('creates the file with mode 0600 and a $7$ line with 210,000 iterations that verifies; never shows the password', async ({ dir }) => {
  const file = path(dir)
  const added = await passwd([file, 'alice'], 'correct horse battery staple\n')
  assert.equal(added, { code: 0, message: `added user "alice" to ${file}` })
  assert.is(statSync(file).mode & 0o777, 0o600)
  const text = readFileSync(file, 'utf8')
  assert.match(text, /^alice:\$7\$210000\$[A-Za-z0-9+/]{16}\$[A-Za-z0-9+/]{86}==\n$/)
  assert.not.ok(text.includes('correct horse'))
  assert.ok(await verifies(file, 'alice', 'correct horse battery staple'))
  assert.not.ok(await verifies(file, 'alice', 'correct horse battery staple\n'), 'the line break is not part of the password')
  assert.not.ok(await verifies(file, 'alice', 'wrong'))
})

test('the real mosquitto_passwd reads and edits our file, and we read and edit its lines', async ({ dir }) => {
  const file = path(dir)
  assert.is((await passwd([file, 'alice'], 'wonderland')).code, 0)
  // mosquitto_passwd rewrites the whole file: it must understand our line to keep it.
  execFileSync(MOSQUITTO_PASSWD, ['-b', file, 'bob', 'builder'], { stdio: 'pipe' })
  execFileSync(MOSQUITTO_PASSWD, ['-H', 'sha512', '-b', file, 'old', 'timer'], { stdio: 'pipe' })
  assert.ok(await verifies(file, 'alice', 'wonderland'), 'our line survived mosquitto_passwd')
  assert.ok(await verifies(file, 'bob', 'builder'))
  assert.ok(await verifies(file, 'old', 'timer'))
  const before = readFileSync(file, 'utf8').split('\n')
  assert.equal((await passwd([file, 'bob'], 'new builder\n')), { code: 0, message: `changed the password of user "bob" in ${file}` })
  const after = readFileSync(file, 'utf8').split('\n')
  assert.is(after.length, before.length)
  assert.is(after[0], before[0], 'alice untouched')
  assert.is(after[2], before[2], 'old untouched')
  assert.match(after[1]!, /^bob:\$7\$210000\$/)
  assert.ok(await verifies(file, 'bob', 'new builder'))
  assert.not.ok(await verifies(file, 'bob', 'builder'))
})

test('changing a password keeps comments, blank lines, CRLF endings, the order and the file mode; symlinks are followed', async ({ dir }) => {
  const file = path(dir)
  execFileSync(MOSQUITTO_PASSWD, ['-c', '-b', file, 'alice', 'wonderland'], { stdio: 'pipe' })
  const aliceLine = readFileSync(file, 'utf8').trimEnd()
  writeFileSync(file, `# broker users\r\n${aliceLine}\r\n\r\n# service accounts\r\nsvc:$6$${Buffer.from('twelve bytes').toString('base64')}$${Buffer.alloc(64, 3).toString('base64')}\r\n`)
  chmodSync(file, 0o640)
  const link = join(dir, 'link-to-passwords')
  symlinkSync(file, link)
  assert.is((await passwd([link, 'svc'], 'rotated')).code, 0)
  const lines = readFileSync(file, 'utf8').split('\r\n')
  assert.equal(lines.filter((_, index) => index !== 4), ['# broker users', aliceLine, '', '# service accounts', ''])
  assert.match(lines[4]!, /^svc:\$7\$210000\$/)
  assert.is(statSync(file).mode & 0o777, 0o640, 'mode kept')
  assert.ok(await verifies(file, 'svc', 'rotated'))
  assert.ok(await verifies(file, 'alice', 'wonderland'))
  assert.is((await passwd([file, 'carol'], 'new')).code, 0)
  assert.match(readFileSync(file, 'utf8'), /\r\ncarol:\$7\$210000\$[^\r\n]+\r\n$/, 'a new user is appended with the file\'s line ending')
})

test('the real Mosquitto broker lets our users in with our 210,000-iteration hashes, and refuses a wrong password', async ({ dir }) => {
  const file = path(dir)
  assert.is((await passwd([file, 'alice'], 'wonderland')).code, 0)
  const [port] = await freePorts(1)
  const config = join(dir, 'mosquitto.conf')
  // `user`: run as root, Mosquitto would switch to the mosquitto user, who cannot read the 0600 file.
  writeFileSync(config, `listener ${port} 127.0.0.1\nallow_anonymous false\npassword_file ${file}\nuser ${userInfo().username}\nlog_dest stderr\n`)
  const broker = spawnTracked(MOSQUITTO, ['-c', config])
  // Mosquitto logs to stderr unbuffered (its stdout is block-buffered into a pipe).
  await broker.waitFor(() => /mosquitto version \S+ running/.test(broker.stderr) ? true : undefined, 'Mosquitto to start', 5000)
  const publish = async (password: string): Promise<number | null> =>
    (await run(MOSQUITTO_PUB, ['-h', '127.0.0.1', '-p', String(port), '-u', 'alice', '-P', password, '-t', 'passwd/test', '-m', 'hi'], { timeoutMs: 10_000 })).code
  assert.is(await publish('wonderland'), 0, 'right password')
  assert.is(await publish('wonderlan'), 5, 'wrong password: CONNACK 5 (not authorised)')
})

test('-D and --delete remove only that user; an unknown user or a missing file changes nothing', async ({ dir }) => {
  const file = path(dir)
  writeFileSync(file, '# users\n')
  for (const user of ['alice', 'bob', 'carol']) assert.is((await passwd([file, user], `${user}-pw`)).code, 0)
  assert.equal(await passwdCommand(['-D', file, 'bob']), { code: 0, message: `removed user "bob" from ${file}` })
  assert.equal(await passwdCommand([file, '--delete', 'alice']), { code: 0, message: `removed user "alice" from ${file}` })
  const text = readFileSync(file, 'utf8')
  assert.equal([...parsePasswordFile(text, file).keys()], ['carol'])
  assert.ok(text.startsWith('# users\ncarol:'))
  assert.ok(await verifies(file, 'carol', 'carol-pw'))
  assert.equal(await passwdCommand(['-D', file, 'bob']), { code: 1, message: `user "bob" is not in ${file}; nothing was changed` })
  assert.is(readFileSync(file, 'utf8'), text)
  const missing = join(dir, 'missing')
  assert.equal(await passwdCommand(['-D', missing, 'bob']), { code: 1, message: `${missing} does not exist; nothing was changed` })
  assert.not.ok(existsSync(missing))
})

test('refusals exit non-zero and change nothing: empty or multi-line password, bad user name, broken file, no terminal, bad arguments', async ({ dir }) => {
  const file = path(dir)
  assert.is((await passwd([file, 'alice'], 'wonderland\n')).code, 0)
  const text = readFileSync(file, 'utf8')

  assert.equal(await passwd([file, 'alice'], '\n'), { code: 1, message: 'the password is empty; nothing was changed' })
  assert.equal(await passwd([file, 'alice'], 'two\nlines\n'), { code: 1, message: 'the password on stdin must be a single line; nothing was changed' })
  assert.equal(await passwd([file, 'al:ice'], 'pw'), { code: 2, message: 'a user name cannot contain ":": "al:ice"' })
  assert.equal(await passwdCommand([file, 'alice'], Readable.from(['pw\n'])), { code: 2, message: 'stdin is not a terminal: pipe the password in with --password-stdin' })
  assert.equal(await passwdCommand(['-D', file, 'alice', '--password-stdin']), { code: 2, message: '--delete takes no password; usage: troupe passwd FILE USER [--password-stdin] | troupe passwd -D FILE USER' })
  assert.is((await passwdCommand([file])).code, 2)
  assert.is((await passwdCommand([file, 'alice', 'extra'])).code, 2)
  const unknown = await passwdCommand([file, 'alice', '--iterations=5'])
  assert.is(unknown.code, 2)
  assert.match(unknown.message, /usage: troupe passwd/)
  assert.is(readFileSync(file, 'utf8'), text, 'nothing changed')

  const broken = path(dir)
  writeFileSync(broken, '# users\ncarol:hunter2\n')
  const refused = await passwd([broken, 'alice'], 'pw')
  assert.equal(refused, { code: 2, message: `${broken}:2: user "carol": the password is not hashed, or not in a form Mosquitto writes (hash it with "troupe passwd" or "mosquitto_passwd -U"); expected $7$<iterations>$<base64 salt>$<base64 hash>, $6$<base64 salt>$<base64 hash> or $argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt>$<hash>; fix or remove that line first` })
  assert.not.ok(refused.message.includes('hunter2'))
  assert.is((await passwdCommand(['-D', broken, 'carol'])).code, 2, 'not even a delete edits a broken file')
  assert.is(readFileSync(broken, 'utf8'), '# users\ncarol:hunter2\n')

  const help = await passwdCommand(['--help'])
  assert.is(help.code, 0)
  assert.match(help.message, /^Usage: troupe passwd/)
})

test.run()
