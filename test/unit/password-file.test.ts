import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { AuthenticationRequest } from '../../actors/connection/authenticator.js'
import { capabilitiesFor } from '../../actors/connection/protocol/protocol-version.js'
import { PasswordFileAuthenticator } from '../../runtime/auth/password-file-authenticator.js'
import {
  formatPasswordFileLine,
  parsePasswordFile,
  PasswordFileError,
  readPasswordFile,
  removePasswordFileUser,
  setPasswordFileUser
} from '../../runtime/auth/password-file.js'
import { formatPasswordHash, hashPassword, passwordMatches, type PasswordHash } from '../../runtime/auth/password-hash.js'
import { libargon2Hash } from '../helpers/libargon2.js'

/**
 * Mosquitto password files: lines written by the real mosquitto_passwd (both hash forms) parse
 * and verify, every kind of bad line is refused with its file and line but none of its secret,
 * edits keep the other lines, and the authenticator's verdicts are Mosquitto's.
 */

const test = suite<{ dir: string }>('mosquitto password file')
test.before(context => { context.dir = mkdtempSync(join(tmpdir(), 'troupe-password-file-')) })
test.after(context => { rmSync(context.dir, { recursive: true, force: true }) })

const FILE = '/etc/troupe/passwords'
const MOSQUITTO_PASSWD = '/usr/bin/mosquitto_passwd'

/** Runs the real mosquitto_passwd in batch mode; returns the file's text. */
function mosquittoPasswd (file: string, args: readonly string[]): string {
  execFileSync(MOSQUITTO_PASSWD, [...args], { stdio: 'pipe' })
  return readFileSync(file, 'utf8')
}

function password (text: string): Buffer {
  return Buffer.from(text, 'utf8')
}

/** Parses `text` expecting a PasswordFileError, and returns it. */
function failure (text: string): PasswordFileError {
  try {
    parsePasswordFile(text, FILE)
  } catch (error) {
    if (error instanceof PasswordFileError) return error
    throw error
  }
  throw new Error(`no error for ${JSON.stringify(text)}`)
}

const SALT = Buffer.from('twelve bytes').toString('base64')
const HASH = Buffer.alloc(64, 7).toString('base64')

test('mosquitto_passwd $7$ lines (PBKDF2-SHA512, its default): parsed, the right password verifies, a wrong one does not', async ({ dir }) => {
  const file = join(dir, 'pbkdf2')
  mosquittoPasswd(file, ['-c', '-b', file, 'alice', 'wonderland'])
  const text = mosquittoPasswd(file, ['-b', file, 'bob', 'builder ünïcode'])
  assert.match(text, /^alice:\$7\$101\$/m, 'mosquitto_passwd wrote a $7$ line')
  const users = parsePasswordFile(text, file)
  assert.equal([...users.keys()], ['alice', 'bob'])
  const alice = users.get('alice')!
  assert.is(alice.kind, 'pbkdf2-sha512')
  assert.is(alice.kind === 'pbkdf2-sha512' && alice.iterations, 101)
  assert.is(alice.salt.length, 12)
  assert.ok(await passwordMatches(password('wonderland'), alice), 'right password')
  assert.not.ok(await passwordMatches(password('Wonderland'), alice), 'wrong password')
  assert.not.ok(await passwordMatches(password(''), alice), 'empty password')
  assert.ok(await passwordMatches(password('builder ünïcode'), users.get('bob')!), 'non-ASCII password, as UTF-8')
  assert.not.ok(await passwordMatches(password('wonderland'), users.get('bob')!), 'another user\'s password')
})

test('mosquitto_passwd -H sha512 ($6$, Mosquitto 1.x) and -I (another iteration count) lines verify too', async ({ dir }) => {
  const file = join(dir, 'sha512')
  mosquittoPasswd(file, ['-c', '-H', 'sha512', '-b', file, 'old', 'timer'])
  const text = mosquittoPasswd(file, ['-I', '2000', '-b', file, 'custom', 'count'])
  assert.match(text, /^old:\$6\$/m)
  assert.match(text, /^custom:\$7\$2000\$/m)
  const users = parsePasswordFile(text, file)
  assert.is(users.get('old')!.kind, 'sha512')
  assert.ok(await passwordMatches(password('timer'), users.get('old')!))
  assert.not.ok(await passwordMatches(password('timer '), users.get('old')!))
  assert.ok(await passwordMatches(password('count'), users.get('custom')!))
  assert.not.ok(await passwordMatches(password('COUNT'), users.get('custom')!))
})

test('our $7$ hash (210,000 iterations) formats the way Mosquitto writes and parses back', async () => {
  const hash = await hashPassword(password('s3cret'))
  assert.is(hash.kind === 'pbkdf2-sha512' && hash.iterations, 210_000)
  const line = formatPasswordFileLine('carol', hash)
  assert.match(line, /^carol:\$7\$210000\$[A-Za-z0-9+/]{16}\$[A-Za-z0-9+/]{86}==$/)
  const parsed = parsePasswordFile(`${line}\n`, FILE).get('carol')!
  assert.is(formatPasswordHash(parsed), line.slice('carol:'.length))
  assert.ok(await passwordMatches(password('s3cret'), parsed))
  assert.not.ok(await passwordMatches(password('s3cret!'), parsed))
})

test('argon2id lines in libargon2\'s encoded form (mosquitto_passwd -H argon2id) parse, format back unchanged and verify', async () => {
  for (const [memoryKiB, passes, lanes] of [[19456, 2, 1], [65536, 3, 4]] as const) {
    const encoded = libargon2Hash('wonderland', memoryKiB, passes, lanes)
    assert.match(encoded, /^\$argon2id\$v=19\$m=\d+,t=\d+,p=\d+\$/)
    const parsed = parsePasswordFile(`alice:${encoded}\n`, FILE).get('alice')!
    assert.equal(parsed.kind === 'argon2id' && [parsed.memoryKiB, parsed.passes, parsed.lanes], [memoryKiB, passes, lanes])
    assert.is(formatPasswordHash(parsed), encoded)
    assert.ok(await passwordMatches(password('wonderland'), parsed))
    assert.not.ok(await passwordMatches(password('Wonderland'), parsed))
  }
})

test('blank lines, # comments (indented too), CRLF, trailing blanks after the hash and a byte order mark are fine', () => {
  const text = `\uFEFF# Mosquitto users\r\n\r\n   \r\n  # indented comment\r\nalice:$7$101$${SALT}$${HASH}  \t\r\nbob:$6$${SALT}$${HASH}\r\n`
  const users = parsePasswordFile(text, FILE)
  assert.equal([...users.keys()], ['alice', 'bob'])
  assert.ok(users.get('bob')!.hash.equals(Buffer.alloc(64, 7)))
  assert.is(parsePasswordFile('', FILE).size, 0, 'an empty file has no users')
})

test('user names are taken as written: spaces inside, "$", "=", non-ASCII', () => {
  for (const name of ['a b', 'x$y=z', 'Zoë', '用户']) {
    assert.equal([...parsePasswordFile(`${name}:$6$${SALT}$${HASH}\n`, FILE).keys()], [name])
  }
})

const malformed: Array<{ name: string, text: string, line: number, says: RegExp }> = [
  { name: 'no colon (a pasted password?)', text: '# users\nhunter2\n', line: 2, says: /no ":" after the user name/ },
  { name: 'an empty user name', text: `:$6$${SALT}$${HASH}\n`, line: 1, says: /the user name is empty/ },
  { name: 'a user name with a blank around it', text: ` alice:$6$${SALT}$${HASH}\n`, line: 1, says: /cannot start or end with white space/ },
  { name: 'a user name with a control character', text: `al\u0001ice:$6$${SALT}$${HASH}\n`, line: 1, says: /control characters/ },
  { name: 'a plain-text password (before mosquitto_passwd -U)', text: 'carol:hunter2\n', line: 1, says: /user "carol": the password is not hashed.*mosquitto_passwd -U/ },
  { name: 'an empty password', text: 'carol:\n', line: 1, says: /user "carol": the password is not hashed/ },
  { name: 'an unknown hash type', text: `carol:$5$${SALT}$${HASH}\n`, line: 1, says: /not in a form Mosquitto writes/ },
  { name: 'a $7$ without the iteration count', text: `carol:$7$${SALT}$${HASH}\n`, line: 1, says: /"\$7\$" hash has three/ },
  { name: 'a $7$ with one part too many', text: `carol:$7$101$${SALT}$${HASH}$x\n`, line: 1, says: /"\$7\$" hash has three/ },
  { name: 'a $6$ with an iteration count', text: `carol:$6$101$${SALT}$${HASH}\n`, line: 1, says: /"\$6\$" hash has two/ },
  { name: 'a zero iteration count', text: `carol:$7$0$${SALT}$${HASH}\n`, line: 1, says: /iteration count is not a whole number/ },
  { name: 'a word for the iteration count', text: `carol:$7$many$${SALT}$${HASH}\n`, line: 1, says: /iteration count is not a whole number/ },
  { name: 'a too large iteration count', text: `carol:$7$99999999999$${SALT}$${HASH}\n`, line: 1, says: /iteration count is not a whole number/ },
  { name: 'a salt that is not base64', text: `carol:$7$101$not*base64$${HASH}\n`, line: 1, says: /the salt is not non-empty base64/ },
  { name: 'an empty salt', text: `carol:$6$$${HASH}\n`, line: 1, says: /the salt is not non-empty base64/ },
  { name: 'a short hash', text: `carol:$7$101$${SALT}$${Buffer.alloc(32, 1).toString('base64')}\n`, line: 1, says: /the hash is not base64 of 64 bytes/ },
  { name: 'a hash with blanks inside', text: `carol:$6$${SALT}$${HASH.slice(0, 10)} ${HASH.slice(10)}\n`, line: 1, says: /the hash is not base64 of 64 bytes/ },
  { name: 'an argon2id hash of another version', text: `carol:$argon2id$v=16$m=19456,t=2,p=1$${SALT}$${HASH}\n`, line: 1, says: /argon2id hash is not in libargon2's encoded form/ },
  { name: 'an argon2id hash without its parameters', text: `carol:$argon2id$v=19$${SALT}$${HASH}\n`, line: 1, says: /argon2id hash is not in libargon2's encoded form/ },
  { name: 'an argon2id hash asking for 16 GiB', text: `carol:$argon2id$v=19$m=16777216,t=2,p=1$${SALT.replace(/=+$/, '')}$${HASH.replace(/=+$/, '')}\n`, line: 1, says: /argon2id memory m is not from 8 KiB per lane to 4194304 KiB/ },
  { name: 'a repeated user', text: `# a\nalice:$6$${SALT}$${HASH}\n\nalice:$7$101$${SALT}$${HASH}\n`, line: 4, says: /user "alice" is already on line 2; give each user one line/ }
]

for (const bad of malformed) {
  test(`refused, naming the file and the line and echoing no secret: ${bad.name}`, () => {
    const error = failure(bad.text)
    assert.is(error.file, FILE)
    assert.is(error.line, bad.line)
    assert.ok(error.message.startsWith(`${FILE}:${bad.line}: `), error.message)
    assert.match(error.message, bad.says)
    for (const secret of ['hunter2', SALT, HASH, HASH.slice(0, 10), 'not*base64']) {
      assert.not.ok(error.message.includes(secret), `the message holds ${secret}: ${error.message}`)
    }
  })
}

test('a missing file is a PasswordFileError for the whole file', async ({ dir }) => {
  const file = join(dir, 'missing')
  try {
    await readPasswordFile(file)
    assert.unreachable('no error')
  } catch (error) {
    assert.instance(error, PasswordFileError)
    assert.is((error as PasswordFileError).line, undefined)
    assert.is((error as PasswordFileError).message, `${file}: cannot read the file (ENOENT); give the path of a Mosquitto password file`)
  }
})

test('setting a user replaces its line in place or appends one; removing drops only its line', async () => {
  const hash: PasswordHash = { kind: 'sha512', salt: Buffer.from('twelve bytes'), hash: Buffer.alloc(64, 1) }
  const original = `# header\nalice:$6$${SALT}$${HASH}\n\n# bob next\nbob:$7$101$${SALT}$${HASH}\n`
  const replaced = setPasswordFileUser(original, FILE, 'alice', hash)
  assert.ok(replaced.replaced)
  assert.is(replaced.text, `# header\nalice:${formatPasswordHash(hash)}\n\n# bob next\nbob:$7$101$${SALT}$${HASH}\n`)
  const added = setPasswordFileUser(original, FILE, 'carol', hash)
  assert.not.ok(added.replaced)
  assert.is(added.text, `${original}carol:${formatPasswordHash(hash)}\n`)
  const crlf = setPasswordFileUser(`alice:$6$${SALT}$${HASH}\r\n`, FILE, 'dave', hash)
  assert.is(crlf.text, `alice:$6$${SALT}$${HASH}\r\ndave:${formatPasswordHash(hash)}\r\n`, 'CRLF files stay CRLF')
  const removed = removePasswordFileUser(original, FILE, 'alice')
  assert.ok(removed.removed)
  assert.is(removed.text, `# header\n\n# bob next\nbob:$7$101$${SALT}$${HASH}\n`)
  assert.equal(removePasswordFileUser(original, FILE, 'nobody'), { text: original, removed: false })
  assert.throws(() => setPasswordFileUser('broken\n', FILE, 'alice', hash), (error: unknown) => error instanceof PasswordFileError && error.line === 1)
})

// --- the authenticator ---------------------------------------------------------------------

function request (username: string | undefined, secret: string | undefined): AuthenticationRequest {
  return { clientId: 'client-1', username, password: secret === undefined ? undefined : password(secret), remoteAddress: '127.0.0.1', protocol: capabilitiesFor(5)! }
}

test('authenticator: the right password gets in; a wrong one, none, or an unknown user get 0x86; no user name gets 0x87', async ({ dir }) => {
  const file = join(dir, 'authenticator')
  mosquittoPasswd(file, ['-c', '-b', file, 'alice', 'wonderland'])
  mosquittoPasswd(file, ['-H', 'sha512', '-b', file, 'old', 'timer'])
  writeFileSync(file, `${readFileSync(file, 'utf8')}modern:${libargon2Hash('memory-hard')}\n`)
  const authenticator = await PasswordFileAuthenticator.fromFile(file)
  assert.is(authenticator.allowsEveryone, false, 'connections must not skip it')
  assert.equal(await authenticator.authenticate(request('alice', 'wonderland')), { allowed: true })
  assert.equal(await authenticator.authenticate(request('old', 'timer')), { allowed: true })
  assert.equal(await authenticator.authenticate(request('modern', 'memory-hard')), { allowed: true })
  assert.equal(await authenticator.authenticate(request('modern', 'timer')), { allowed: false, reasonCode: 0x86 })
  assert.equal(await authenticator.authenticate(request('alice', 'timer')), { allowed: false, reasonCode: 0x86 })
  assert.equal(await authenticator.authenticate(request('alice', undefined)), { allowed: false, reasonCode: 0x86 })
  assert.equal(await authenticator.authenticate(request('mallory', 'wonderland')), { allowed: false, reasonCode: 0x86 })
  assert.equal(await authenticator.authenticate(request('', '')), { allowed: false, reasonCode: 0x86 })
  assert.equal(await authenticator.authenticate(request(undefined, undefined)), { allowed: false, reasonCode: 0x87 })
  assert.equal(await authenticator.authenticate(request(undefined, 'wonderland')), { allowed: false, reasonCode: 0x87 })
})

test('authenticator with allowAnonymous: no user name gets in, but a user name still needs its password', async ({ dir }) => {
  const file = join(dir, 'anonymous')
  mosquittoPasswd(file, ['-c', '-b', file, 'alice', 'wonderland'])
  const authenticator = await PasswordFileAuthenticator.fromFile(file, { allowAnonymous: true })
  assert.equal(await authenticator.authenticate(request(undefined, undefined)), { allowed: true })
  assert.equal(await authenticator.authenticate(request('alice', 'wonderland')), { allowed: true })
  assert.equal(await authenticator.authenticate(request('alice', 'nope')), { allowed: false, reasonCode: 0x86 })
  assert.equal(await authenticator.authenticate(request('mallory', 'nope')), { allowed: false, reasonCode: 0x86 })
})

test('authenticator: an unknown user takes about as long as a known one (a decoy hash with the file\'s cost)', async ({ dir }) => {
  const file = join(dir, 'timing')
  const hash = await hashPassword(password('wonderland'), 100_000)
  writeFileSync(file, `${formatPasswordFileLine('alice', hash)}\n`)
  const authenticator = await PasswordFileAuthenticator.fromFile(file)
  async function fastest (username: string): Promise<number> {
    let best = Infinity
    for (let i = 0; i < 3; i++) {
      const started = process.hrtime.bigint()
      await authenticator.authenticate(request(username, 'guess'))
      best = Math.min(best, Number(process.hrtime.bigint() - started) / 1e6)
    }
    return best
  }
  const known = await fastest('alice')
  const unknown = await fastest('mallory')
  // Loose bounds (the machine is shared): without the decoy an unknown user answers in well under a millisecond.
  assert.ok(unknown > known * 0.4, `unknown user ${unknown.toFixed(1)} ms, known user ${known.toFixed(1)} ms`)
})

test.run()
