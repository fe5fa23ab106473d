import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import {
  formatScramCredentials,
  parseScramCredentials,
  ScramCredentialsFile,
  ScramCredentialsFileError,
  setScramCredentials
} from '../../actors/connection/auth-methods/scram-credentials-file.js'
import { scramCredentialsFor, type ScramCredentials } from '../../actors/connection/auth-methods/scram-credentials.js'
import { ScramSha256 } from '../../actors/connection/auth-methods/scram-sha-256.js'
import { ScramClient } from '../helpers/scram-client.js'

const test = suite('scram credentials file')

const FILE = '/etc/troupe/scram-users'
const alice = await scramCredentialsFor('wonderland', { iterations: 4096 })
const bob = await scramCredentialsFor('builder', { iterations: 10_000, salt: Buffer.from('a 20-byte salt here!') })
const aliceLine = formatScramCredentials('alice', alice)
const bobLine = formatScramCredentials('bob', bob)

function same (actual: ScramCredentials | undefined, expected: ScramCredentials, what: string): void {
  assert.ok(actual !== undefined, `${what}: present`)
  assert.is(actual.iterations, expected.iterations, `${what}: iterations`)
  assert.ok(actual.salt.equals(expected.salt), `${what}: salt`)
  assert.ok(actual.storedKey.equals(expected.storedKey), `${what}: StoredKey`)
  assert.ok(actual.serverKey.equals(expected.serverKey), `${what}: ServerKey`)
}

/** Parses `text` expecting a ScramCredentialsFileError, and returns it. */
function failure (text: string): ScramCredentialsFileError {
  try {
    parseScramCredentials(text, FILE)
  } catch (error) {
    if (error instanceof ScramCredentialsFileError) return error
    throw error
  }
  throw new Error(`no error for ${JSON.stringify(text)}`)
}

test('a line is the RFC 5803 form after the user name', () => {
  const salt = alice.salt.toString('base64')
  assert.is(aliceLine, `alice:SCRAM-SHA-256$4096:${salt}$${alice.storedKey.toString('base64')}:${alice.serverKey.toString('base64')}`)
  assert.match(bobLine, /^bob:SCRAM-SHA-256\$10000:YSAyMC1ieXRlIHNhbHQgaGVyZSE=\$[A-Za-z0-9+/]{43}=:[A-Za-z0-9+/]{43}=$/)
})

test('round trip: format then parse gives the same credentials, in file order', () => {
  const users = parseScramCredentials(`${aliceLine}\n${bobLine}\n`, FILE)
  assert.equal([...users.keys()], ['alice', 'bob'])
  same(users.get('alice'), alice, 'alice')
  same(users.get('bob'), bob, 'bob')
  assert.is(formatScramCredentials('alice', users.get('alice')!), aliceLine, 'and formats back to the same line')
})

test('user names are taken as written: "=", ",", spaces inside and non-ASCII letters', () => {
  for (const name of ['a=b,c', 'Zoë Ünal', 'o\'brien', '用户']) {
    const users = parseScramCredentials(formatScramCredentials(name, alice), FILE)
    assert.equal([...users.keys()], [name])
  }
})

test('blank lines, white space lines and comments are ignored; CRLF and a byte order mark are read; no final line break is needed', () => {
  const text = `\uFEFF# users of the staging broker\r\n\r\n   \r\n  # indented comment\r\n${aliceLine}\r\n\t\r\n${bobLine}`
  const users = parseScramCredentials(text, FILE)
  assert.equal([...users.keys()], ['alice', 'bob'])
  same(users.get('bob'), bob, 'bob')
  assert.is(parseScramCredentials('', FILE).size, 0, 'an empty file has no users')
  assert.is(parseScramCredentials('# nobody yet\n', FILE).size, 0)
})

const salt = alice.salt.toString('base64')
const storedKey = alice.storedKey.toString('base64')
const serverKey = alice.serverKey.toString('base64')
const shortKey = Buffer.alloc(31, 7).toString('base64')

/** Every kind of bad line, each with what the message must say. */
const BAD_LINES: ReadonlyArray<{ name: string, line: string, says: RegExp }> = [
  { name: 'no colon at all (maybe a pasted password)', line: 'hunter2', says: /no ":" after the user name/ },
  { name: 'an empty user name', line: `:SCRAM-SHA-256$4096:${salt}$${storedKey}:${serverKey}`, says: /user name is empty/ },
  { name: 'a user name with a leading space', line: ` carol:SCRAM-SHA-256$4096:${salt}$${storedKey}:${serverKey}`, says: /white space/ },
  { name: 'a user name with a control character', line: `car\tol:SCRAM-SHA-256$4096:${salt}$${storedKey}:${serverKey}`, says: /control characters/ },
  { name: 'a plain password instead of credentials', line: 'carol:hunter2', says: /user "carol": the credentials do not start with "SCRAM-SHA-256\$"/ },
  { name: 'another mechanism', line: `carol:SCRAM-SHA-1$4096:${salt}$${storedKey}:${serverKey}`, says: /do not start with "SCRAM-SHA-256\$"/ },
  { name: 'an MD5 hash', line: 'carol:md5a3556571e93b0d20722ba62be61e8c2d', says: /do not start with "SCRAM-SHA-256\$"/ },
  { name: 'only one "$" part', line: `carol:SCRAM-SHA-256$4096:${salt}`, says: /two "\$"-separated parts/ },
  { name: 'three "$" parts', line: `carol:SCRAM-SHA-256$4096:${salt}$${storedKey}:${serverKey}$extra`, says: /two "\$"-separated parts/ },
  { name: 'no salt', line: `carol:SCRAM-SHA-256$4096$${storedKey}:${serverKey}`, says: /<iterations>:<salt>/ },
  { name: 'an extra field beside the salt', line: `carol:SCRAM-SHA-256$4096:${salt}:x$${storedKey}:${serverKey}`, says: /<iterations>:<salt>/ },
  { name: 'no ServerKey', line: `carol:SCRAM-SHA-256$4096:${salt}$${storedKey}`, says: /<StoredKey>:<ServerKey>/ },
  { name: 'three keys', line: `carol:SCRAM-SHA-256$4096:${salt}$${storedKey}:${serverKey}:${serverKey}`, says: /<StoredKey>:<ServerKey>/ },
  { name: 'zero iterations', line: `carol:SCRAM-SHA-256$0:${salt}$${storedKey}:${serverKey}`, says: /iteration count is not a whole number from 1 to 2147483647/ },
  { name: 'iterations not a number', line: `carol:SCRAM-SHA-256$4k:${salt}$${storedKey}:${serverKey}`, says: /iteration count/ },
  { name: 'negative iterations', line: `carol:SCRAM-SHA-256$-1:${salt}$${storedKey}:${serverKey}`, says: /iteration count/ },
  { name: 'iterations with a leading zero', line: `carol:SCRAM-SHA-256$04096:${salt}$${storedKey}:${serverKey}`, says: /iteration count/ },
  { name: 'too many iterations', line: `carol:SCRAM-SHA-256$2147483648:${salt}$${storedKey}:${serverKey}`, says: /iteration count/ },
  { name: 'an empty salt', line: `carol:SCRAM-SHA-256$4096:$${storedKey}:${serverKey}`, says: /salt is not non-empty base64/ },
  { name: 'a salt that is not base64', line: `carol:SCRAM-SHA-256$4096:not*base64$${storedKey}:${serverKey}`, says: /salt is not non-empty base64/ },
  { name: 'a salt without its padding', line: `carol:SCRAM-SHA-256$4096:${salt.replace(/=+$/, '')}$${storedKey}:${serverKey}`, says: /salt/ },
  { name: 'a StoredKey that is not base64', line: `carol:SCRAM-SHA-256$4096:${salt}$${storedKey.slice(0, -2)}!=:${serverKey}`, says: /StoredKey is not base64 of 32 bytes/ },
  { name: 'a StoredKey of 31 bytes', line: `carol:SCRAM-SHA-256$4096:${salt}$${shortKey}:${serverKey}`, says: /StoredKey is not base64 of 32 bytes/ },
  { name: 'an empty StoredKey', line: `carol:SCRAM-SHA-256$4096:${salt}$:${serverKey}`, says: /StoredKey/ },
  { name: 'a ServerKey of 31 bytes', line: `carol:SCRAM-SHA-256$4096:${salt}$${storedKey}:${shortKey}`, says: /ServerKey is not base64 of 32 bytes/ },
  { name: 'a ServerKey with white space inside', line: `carol:SCRAM-SHA-256$4096:${salt}$${storedKey}:${serverKey.slice(0, 20)} ${serverKey.slice(20)}`, says: /ServerKey/ },
  { name: 'trailing white space', line: `carol:SCRAM-SHA-256$4096:${salt}$${storedKey}:${serverKey} `, says: /ServerKey/ }
]

for (const bad of BAD_LINES) {
  test(`bad line, ${bad.name}: an error naming the file and the line, without the key material`, () => {
    const error = failure(`# header\n${aliceLine}\n\n${bad.line}\n${bobLine}\n`)
    assert.is(error.file, FILE)
    assert.is(error.line, 4)
    assert.ok(error.message.startsWith(`${FILE}:4: `), error.message)
    assert.match(error.problem, bad.says)
    assert.is(error.detail, `line 4: ${error.problem}`)
    for (const secret of [salt, storedKey, serverKey, shortKey, 'hunter2', 'a3556571e93b0d20722ba62be61e8c2d', serverKey.slice(20)]) {
      assert.not.ok(error.message.includes(secret), `the message does not repeat ${secret}: ${error.message}`)
    }
  })
}

test('a user on two lines is an error naming both lines', () => {
  const error = failure(`${aliceLine}\n${bobLine}\n# again:\n${formatScramCredentials('alice', bob)}\n`)
  assert.is(error.line, 4)
  assert.match(error.problem, /user "alice" is already on line 1/)
})

test('the formatter refuses a user name the file could not hold, and bad credentials', () => {
  for (const name of ['', 'a:b', 'line\nbreak', 'nul\0', ' padded', 'padded ', '#comment']) {
    assert.throws(() => formatScramCredentials(name, alice), RangeError, JSON.stringify(name))
  }
  assert.throws(() => formatScramCredentials('carol', { ...alice, iterations: 0 }), RangeError)
  assert.throws(() => formatScramCredentials('carol', { ...alice, salt: Buffer.alloc(0) }), RangeError)
  assert.throws(() => formatScramCredentials('carol', { ...alice, storedKey: alice.storedKey.subarray(1) }), RangeError)
})

test('setting a user replaces its line in place and keeps every other line; a new user is added at the end', () => {
  const original = `# staging users\n${aliceLine}\n\n# builders\n${bobLine}\n`
  const changed = setScramCredentials(original, FILE, 'alice', bob)
  assert.is(changed.replaced, true)
  assert.is(changed.text, `# staging users\n${formatScramCredentials('alice', bob)}\n\n# builders\n${bobLine}\n`)
  const added = setScramCredentials(changed.text, FILE, 'carol', alice)
  assert.is(added.replaced, false)
  assert.is(added.text, `${changed.text}${formatScramCredentials('carol', alice)}\n`)
  assert.is(setScramCredentials('', FILE, 'dave', alice).text, `${formatScramCredentials('dave', alice)}\n`, 'an empty file')
  assert.is(setScramCredentials('# only a comment', FILE, 'dave', alice).text, `# only a comment\n${formatScramCredentials('dave', alice)}\n`, 'a file without a final line break')
})

test('setting a user keeps CRLF line endings', () => {
  const original = `# users\r\n${aliceLine}\r\n`
  assert.is(setScramCredentials(original, FILE, 'alice', bob).text, `# users\r\n${formatScramCredentials('alice', bob)}\r\n`)
  assert.is(setScramCredentials(original, FILE, 'bob', bob).text, `${original}${bobLine}\r\n`)
})

test('setting a user in a broken file is refused with the file error', () => {
  assert.throws(() => setScramCredentials(`${aliceLine}\nbob:hunter2\n`, FILE, 'alice', bob), (error: unknown) => error instanceof ScramCredentialsFileError && error.line === 2)
})

test('a file on disk: read into a store the SCRAM method logs users in from; an unreadable file is an error without a line', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'troupe-scram-file-'))
  try {
    const path = join(dir, 'users')
    writeFileSync(path, `# test\n${aliceLine}\n`)
    const file = await ScramCredentialsFile.read(path)
    assert.is(file.file, path)
    assert.equal([...file.users.keys()], ['alice'])
    same(await file.lookup('alice'), alice, 'alice')
    assert.is(await file.lookup('bob'), undefined)

    const scram = new ScramSha256(file).start({ clientId: 'c', remoteAddress: '127.0.0.1:1' })
    const client = new ScramClient('alice', 'wonderland')
    const first = await scram.step(client.clientFirst())
    if (first.kind !== 'continue') throw new Error(`expected continue, got ${first.kind}`)
    const final = await scram.step(client.clientFinal(first.data))
    assert.is(final.kind, 'success')
    if (final.kind === 'success') assert.ok(client.verifiesServerFinal(final.data))

    for (const unreadable of [join(dir, 'missing'), dir]) {
      try {
        await ScramCredentialsFile.read(unreadable)
        assert.unreachable('read should fail')
      } catch (error) {
        if (!(error instanceof ScramCredentialsFileError)) throw error
        assert.is(error.line, undefined)
        assert.match(error.message, new RegExp(`^${unreadable}: cannot read the file \\((ENOENT|EISDIR)\\)`))
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test.run()
