import { randomBytes } from 'node:crypto'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { disconnectReasonCode, type AuthExchange, type AuthStep } from '../../actors/connection/auth-methods/auth-method.js'
import {
  InMemoryScramCredentials,
  normalisePassword,
  scramCredentialsFor,
  type ScramCredentials,
  type ScramCredentialStore
} from '../../actors/connection/auth-methods/scram-credentials.js'
import { ScramSha256, type ScramSha256Options } from '../../actors/connection/auth-methods/scram-sha-256.js'
import { ScramClient } from '../helpers/scram-client.js'

const context = { clientId: 'c1', remoteAddress: '127.0.0.1:50000' }
const users = new InMemoryScramCredentials(new Map([['alice', 'wonderland'], ['a,b=c', 'escaped']]))

function server (options: ScramSha256Options = {}, store: ScramCredentialStore = users): AuthExchange {
  return new ScramSha256(store, { secret: 'test secret', ...options }).start(context)
}

function expectContinue (step: AuthStep): Buffer {
  if (step.kind !== 'continue') throw new Error(`expected continue, got ${JSON.stringify(step)}`)
  return step.data
}

function expectFailure (step: AuthStep, reasonCode: number, detail?: RegExp): string {
  if (step.kind !== 'failure') throw new Error(`expected failure 0x${reasonCode.toString(16)}, got ${step.kind}`)
  assert.is(step.reasonCode, reasonCode, `reason code for: ${step.detail}`)
  assert.ok(step.detail.length > 0)
  if (detail !== undefined) assert.match(step.detail, detail)
  return step.detail
}

/** Runs the client's first message and a final message, returning server-first and the final step. */
async function exchange (client: ScramClient, exchangeOptions: ScramSha256Options = {}, tamper: { nonce?: (nonce: string) => string, channelBinding?: string } = {}) {
  const scram = server(exchangeOptions)
  const serverFirst = expectContinue(await scram.step(client.clientFirst()))
  const nonce = serverFirst.toString().split(',')[0]!.slice(2)
  const final = await scram.step(client.clientFinal(serverFirst, {
    ...(tamper.nonce === undefined ? {} : { nonce: tamper.nonce(nonce) }),
    ...(tamper.channelBinding === undefined ? {} : { channelBinding: tamper.channelBinding })
  }))
  return { scram, serverFirst, final }
}

const test = suite('scram-sha-256')

test('a full exchange succeeds, and server-final verifies on the client side', async () => {
  const client = new ScramClient('alice', 'wonderland')
  const { serverFirst, final, scram } = await exchange(client)
  assert.match(serverFirst.toString(), /^r=[\x21-\x2b\x2d-\x7e]+,s=[A-Za-z0-9+/]+={0,2},i=4096$/)
  if (final.kind !== 'success') throw new Error(`expected success, got ${JSON.stringify(final)}`)
  assert.is(final.username, 'alice')
  assert.ok(client.verifiesServerFinal(final.data), 'server signature verifies')
  expectFailure(await scram.step(client.clientFinal(serverFirst)), 0x82, /already over/)
})

test('RFC 7677 test vector: proof and server signature match the RFC', async () => {
  const credentials = await scramCredentialsFor('pencil', { salt: Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64'), iterations: 4096 })
  const store = new InMemoryScramCredentials(new Map([['user', credentials]]))
  const scram = server({ nonce: () => '%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0' }, store)
  const client = new ScramClient('user', 'pencil', { nonce: 'rOprNGfwEbeRWgbNEkqO' })
  assert.is(client.clientFirst().toString(), 'n,,n=user,r=rOprNGfwEbeRWgbNEkqO')
  const serverFirst = expectContinue(await scram.step(client.clientFirst()))
  assert.is(serverFirst.toString(), 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096')
  const clientFinal = client.clientFinal(serverFirst)
  assert.is(clientFinal.toString(), 'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=')
  const final = await scram.step(clientFinal)
  assert.equal(final, { kind: 'success', data: Buffer.from('v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4='), username: 'user' })
  assert.ok(client.verifiesServerFinal(final.kind === 'success' ? final.data : undefined))
})

test('a wrong password fails with 0x86 at the final step, and the password appears nowhere', async () => {
  const { final } = await exchange(new ScramClient('alice', 'looking-glass'))
  const detail = expectFailure(final, 0x86, /alice/)
  assert.not.ok(detail.includes('wonderland') || detail.includes('looking-glass'))
})

test('an unknown user looks like a known user with a wrong password', async () => {
  const known = await exchange(new ScramClient('alice', 'wrong'))
  const unknown = await exchange(new ScramClient('mallory', 'wrong'))
  const again = await exchange(new ScramClient('mallory', 'other'))
  const other = await exchange(new ScramClient('trudy', 'wrong'))
  const shape = (serverFirst: Buffer) => serverFirst.toString().replace(/^r=[^,]+,s=([^,]+),i=(\d+)$/, (_all, salt: string, i: string) =>
    `salt ${Buffer.from(salt, 'base64').length} bytes, i=${i}`)
  assert.is(shape(unknown.serverFirst), shape(known.serverFirst))
  assert.is(shape(unknown.serverFirst), 'salt 16 bytes, i=4096')
  const salt = (serverFirst: Buffer) => serverFirst.toString().split(',')[1]
  assert.is(salt(again.serverFirst), salt(unknown.serverFirst), 'the fake salt is stable for a name')
  assert.is.not(salt(other.serverFirst), salt(unknown.serverFirst), 'and differs between names')
  const knownDetail = expectFailure(known.final, 0x86)
  const unknownDetail = expectFailure(unknown.final, 0x86)
  assert.is(unknownDetail.replace('mallory', 'NAME'), knownDetail.replace('alice', 'NAME'))
  // A different secret (another broker instance) gives another fake salt.
  const elsewhere = await exchange(new ScramClient('mallory', 'wrong'), { secret: 'another secret' })
  assert.is.not(salt(elsewhere.serverFirst), salt(unknown.serverFirst))
})

test('a tampered nonce in client-final fails', async () => {
  for (const tamper of [
    (nonce: string) => `${nonce}x`,
    (nonce: string) => `${nonce.slice(0, -1)}${nonce.endsWith('A') ? 'B' : 'A'}`,
    (nonce: string) => nonce.slice(0, 12) // the client nonce alone
  ]) {
    const client = new ScramClient('alice', 'wonderland', { nonce: 'clientnonce0' })
    const { final } = await exchange(client, {}, { nonce: tamper })
    expectFailure(final, 0x81, /nonce r= .*not the nonce of server-first/)
  }
})

test('channel binding flags y and p are refused at client-first', async () => {
  for (const gs2Header of ['y,,', 'p=tls-unique,,', 'p=tls-server-end-point,,']) {
    const client = new ScramClient('alice', 'wonderland', { gs2Header })
    expectFailure(await server().step(client.clientFirst()), 0x8c, /channel binding|flag "y"/)
  }
})

test('a c= that does not repeat the gs2 header fails', async () => {
  const { final } = await exchange(new ScramClient('alice', 'wonderland'), {}, { channelBinding: Buffer.from('y,,').toString('base64') })
  expectFailure(final, 0x81, /channel binding c= must be the base64 of the gs2 header "n,,"/)
})

test('malformed client-first messages fail with 0x81 and say what is wrong', async () => {
  const cases: Array<[Buffer | undefined, RegExp]> = [
    [undefined, /missing/],
    [Buffer.alloc(0), /missing/],
    [Buffer.from([0x6e, 0x2c, 0x2c, 0xff, 0xfe]), /UTF-8/],
    [Buffer.from('n=alice,r=abc'), /no gs2 header/],
    [Buffer.from('n=alice,,r=abc'), /gs2 channel-binding flag "n=alice"/],
    [Buffer.from('nonsense'), /no gs2 header/],
    [Buffer.from('x,,n=alice,r=abc'), /flag "x"/],
    [Buffer.from('n,z=alice,n=alice,r=abc'), /second field/],
    [Buffer.from('n,,r=abc,n=alice'), /user name attribute n= here, not "r=abc"/],
    [Buffer.from('n,,n=alice'), /no nonce attribute r=/],
    [Buffer.from('n,,n=,r=abc'), /user name attribute n= .*is empty/],
    [Buffer.from('n,,n=alice,r='), /nonce attribute r= .*is empty/],
    [Buffer.from('n,,n=al=ice,r=abc'), /escape/],
    [Buffer.from('n,,n=alice,r=ab\u00e9c'), /client nonce r=.*printable/],
    [Buffer.from('n,,n=alice,r=abc,'), /not an attribute/],
    [Buffer.from('n,,n=alice,r=abc,ext'), /not an attribute/],
    [Buffer.alloc(20_000, 0x61), /more than/]
  ]
  for (const [data, detail] of cases) expectFailure(await server().step(data), 0x81, detail)
  expectFailure(await server().step(Buffer.from('n,,m=must,n=alice,r=abc')), 0x8c, /mandatory extension/)
  // Unknown extensions are ignored.
  expectContinue(await server().step(Buffer.from('n,,n=alice,r=abc,x=whatever')))
})

test('malformed client-final messages fail with 0x81 and say what is wrong', async () => {
  // The same server nonce every time, so that parts of one exchange's client-final fit another's.
  const fixed = { nonce: () => 'server-nonce' }
  const client = new ScramClient('alice', 'wonderland')
  const scramFirst = server(fixed)
  const serverFirst = expectContinue(await scramFirst.step(client.clientFirst()))
  const good = client.clientFinal(serverFirst).toString()
  const [c, r, p] = good.split(',') as [string, string, string]
  const cases: Array<[string | undefined, RegExp]> = [
    [undefined, /client-final-message is missing/],
    [`${c},${r}`, /must have c=, r= and p=/],
    [`${r},${c},${p}`, /channel binding attribute c= here/],
    [`${c},${p},${r}`, /nonce attribute r= here/],
    [`${c},${r},${p},x=1`, /proof attribute p= here/],
    [`${c},${r},p=not*base64`, /proof p= is not valid base64/],
    [`${c},${r},p=AAAA`, /proof p= is 3 bytes/],
    [`c=biws!,${r},${p}`, /channel binding c= is not valid base64/],
    [`${c},${r},bogus,${p}`, /not an attribute/],
    [`${c},r=,${p}`, /nonce attribute r= .*is empty/]
  ]
  for (const [text, detail] of cases) {
    const scram = server(fixed)
    expectContinue(await scram.step(client.clientFirst()))
    expectFailure(await scram.step(text === undefined ? undefined : Buffer.from(text)), 0x81, detail)
  }
  // The exchange those were cut from still accepts the intact message.
  assert.is((await scramFirst.step(Buffer.from(good))).kind, 'success')
})

test('usernames with "," and "=" travel escaped as =2C and =3D', async () => {
  const client = new ScramClient('a,b=c', 'escaped')
  assert.match(client.clientFirst().toString(), /^n,,n=a=2Cb=3Dc,r=/)
  const { final } = await exchange(client)
  assert.is(final.kind === 'success' ? final.username : final.kind, 'a,b=c')
  assert.ok(client.verifiesServerFinal(final.kind === 'success' ? final.data : undefined))
  expectFailure(await server().step(Buffer.from('n,,n=a,b=c,r=abc')), 0x81)
  expectFailure(await server().step(Buffer.from('n,,n=a=2cb,r=abc')), 0x81, /escape/)
})

test('an authorization identity must be the user name itself', async () => {
  const same = new ScramClient('alice', 'wonderland', { gs2Header: 'n,a=alice,' })
  const { final } = await exchange(same)
  assert.is(final.kind, 'success')
  assert.ok(same.verifiesServerFinal(final.kind === 'success' ? final.data : undefined))
  const other = new ScramClient('alice', 'wonderland', { gs2Header: 'n,a=bob,' })
  expectFailure(await server().step(other.clientFirst()), 0x87, /"bob" is not the user name "alice"/)
})

test('every step after a failure, or after success, fails with 0x82', async () => {
  const scram = server()
  expectFailure(await scram.step(Buffer.from('garbage')), 0x81)
  expectFailure(await scram.step(new ScramClient('alice', 'wonderland').clientFirst()), 0x82, /already over/)
})

test('a step while the store is still answering ends the exchange', async () => {
  let release: () => void = () => undefined
  const slow: ScramCredentialStore = {
    lookup: async username => {
      await new Promise<void>(resolve => { release = resolve })
      return await users.lookup(username)
    }
  }
  const scram = server({}, slow)
  const client = new ScramClient('alice', 'wonderland')
  const first = scram.step(client.clientFirst())
  expectFailure(await scram.step(Buffer.from('c=biws,r=x,p=AAAA')), 0x82, /still being handled/)
  release()
  expectFailure(await first, 0x82, /another step arrived/)
})

test('a failing credential store gives failure 0x80, not a rejection', async () => {
  const broken: ScramCredentialStore = { lookup: async () => { throw new Error('database down') } }
  expectFailure(await server({}, broken).step(new ScramClient('alice', 'x').clientFirst()), 0x80, /database down/)
})

test('server nonces are fresh random strings of the configured length', async () => {
  const nonces = new Set<string>()
  for (let i = 0; i < 5; i++) {
    const client = new ScramClient('alice', 'wonderland', { nonce: 'fixed' })
    const serverFirst = expectContinue(await server({ nonceLength: 24 }).step(client.clientFirst()))
    const serverPart = serverFirst.toString().split(',')[0]!.slice('r=fixed'.length)
    assert.is(Buffer.from(serverPart, 'base64').length, 24)
    nonces.add(serverPart)
  }
  assert.is(nonces.size, 5)
  assert.throws(() => new ScramSha256(users, { nonceLength: 2 }), /nonce length/)
  assert.is(new ScramSha256(users).name, 'SCRAM-SHA-256')
})

test('credentials: derivation, stores of credentials, password normalisation', async () => {
  const salt = randomBytes(16)
  const a: ScramCredentials = await scramCredentialsFor('pass\u00A0word', { salt, iterations: 10 })
  const b = await scramCredentialsFor('pass word', { salt, iterations: 10 })
  assert.ok(a.storedKey.equals(b.storedKey) && a.serverKey.equals(b.serverKey))
  assert.is(normalisePassword('\uFB01x\u00AD'), 'fix')
  const fresh = await scramCredentialsFor('pencil')
  assert.is(fresh.salt.length, 16)
  assert.is(fresh.iterations, 4096)
  assert.is.not((await scramCredentialsFor('pencil')).salt.toString('hex'), fresh.salt.toString('hex'))
  await assert.not.throws(async () => await scramCredentialsFor('x', { iterations: 1 }))
  try {
    await scramCredentialsFor('x', { iterations: 0 })
    assert.unreachable('iterations 0 accepted')
  } catch (error) {
    assert.instance(error, RangeError)
  }
  const store = new InMemoryScramCredentials([['bob', 'builder']], { iterations: 1000 })
  assert.is((await store.lookup('bob'))?.iterations, 1000)
  assert.is(await store.lookup('nobody'), undefined)
  const client = new ScramClient('bob', 'builder')
  const scram = new ScramSha256(store).start(context)
  const final = await scram.step(client.clientFinal(expectContinue(await scram.step(client.clientFirst()))))
  assert.ok(client.verifiesServerFinal(final.kind === 'success' ? final.data : undefined))
})

test('re-authentication failures map to DISCONNECT reason codes', () => {
  assert.is(disconnectReasonCode(0x86), 0x87)
  assert.is(disconnectReasonCode(0x8c), 0x87)
  assert.is(disconnectReasonCode(0x81), 0x81)
  assert.is(disconnectReasonCode(0x82), 0x82)
  assert.is(disconnectReasonCode(0x87), 0x87)
  assert.is(disconnectReasonCode(0x80), 0x80)
})

test.run()
