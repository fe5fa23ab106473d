import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect as tlsConnect } from 'node:tls'
import type { IClientOptions } from 'mqtt'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { ListenerSetupError } from '../../runtime/listeners/listener-setup-error.js'
import { connectionRefusal } from '../helpers/connection-refusal.js'
import { closeListenerBrokers, RecordingAuthenticator, startListenerBroker, type ListenerBroker } from '../helpers/listener-broker.js'
import { libargon2Hash } from '../helpers/libargon2.js'
import { closeAllClients, collect, connectClient, eventually } from '../helpers/mqtt-clients.js'
import { killAll, run, spawnTracked } from '../helpers/processes.js'
import { CLIENT_CN, makeTestCertificates, type TestCertificates } from '../helpers/test-certificates.js'

/**
 * MQTT over TLS with real clients: MQTT.js (mqtts://) and mosquitto_pub / mosquitto_sub, against
 * an in-process broker whose certificates come from a throwaway CA made with openssl.
 */

const test = suite<{ pki: TestCertificates }>('tls listener')
const TIMEOUT_MS = 10_000

test.before(context => { context.pki = makeTestCertificates() })
test.after(context => { context.pki.remove() })
test.after.each(async () => {
  await closeAllClients()
  await killAll()
  await closeListenerBrokers()
})

function trusting (pki: TestCertificates, extra: IClientOptions = {}): IClientOptions {
  return { ca: readFileSync(pki.ca), rejectUnauthorized: true, ...extra }
}

function withCertificate (pki: TestCertificates, cert = pki.clientCert, key = pki.clientKey): IClientOptions {
  return trusting(pki, { cert: readFileSync(cert), key: readFileSync(key) })
}

async function tlsBroker (pki: TestCertificates, listener: Record<string, unknown> = {}, authenticator?: RecordingAuthenticator): Promise<ListenerBroker> {
  return await startListenerBroker({
    listeners: [{ type: 'tls', port: 0, host: '127.0.0.1', cert: pki.serverCert, key: pki.serverKey, ...listener }]
  }, authenticator)
}

test('every listener is logged at start with its type, and listenerAddresses gives the bound ports', async ({ pki }) => {
  const { broker, logs } = await startListenerBroker({ tlsPort: 0, tlsCert: pki.serverCert, tlsKey: pki.serverKey })
  const listening = logs.filter(line => line.msg === 'broker listening')
  assert.equal(listening.map(line => line.type), ['tcp', 'tls'])
  assert.equal(broker.listenerAddresses.map(bound => [bound.type, bound.host]), [['tcp', '127.0.0.1'], ['tls', '127.0.0.1']])
  for (const bound of broker.listenerAddresses) assert.ok(bound.port > 0, `${bound.type} bound a port`)
  assert.is.not(broker.listenerAddresses[0]!.port, broker.listenerAddresses[1]!.port)
  assert.equal(listening.map(line => line.port), broker.listenerAddresses.map(bound => bound.port))
  assert.is(broker.port, broker.listenerAddresses[0]!.port, 'port is still the TCP listener\'s')
})

test('MQTT.js over mqtts:// trusting the test CA: publish over TLS, received over TLS and over plain TCP', async ({ pki }) => {
  const broker = await startListenerBroker({ tlsPort: 0, tlsCert: pki.serverCert, tlsKey: pki.serverKey })
  const tls = `mqtts://127.0.0.1:${broker.port('tls')}`
  const secureSubscriber = await connectClient(tls, trusting(pki))
  const plainSubscriber = await connectClient(`mqtt://127.0.0.1:${broker.port('tcp')}`)
  const secure = collect(secureSubscriber)
  const plain = collect(plainSubscriber)
  await secureSubscriber.subscribeAsync('tls/#', { qos: 1 })
  await plainSubscriber.subscribeAsync('tls/#', { qos: 1 })
  const publisher = await connectClient(tls, trusting(pki, { protocolVersion: 5 }))
  await publisher.publishAsync('tls/greeting', 'over TLS', { qos: 1 })
  await eventually(() => secure.length === 1 && plain.length === 1, 'the message on both subscribers')
  assert.is(secure[0]!.payload, 'over TLS')
  assert.is(plain[0]!.payload, 'over TLS')
})

test('a client that does not trust the server certificate gets no connection', async ({ pki }) => {
  const broker = await startListenerBroker({ tlsPort: 0, tlsCert: pki.serverCert, tlsKey: pki.serverKey })
  const error = await connectionRefusal(`mqtts://127.0.0.1:${broker.port('tls')}`, { rejectUnauthorized: true })
  assert.match(error, /self[- ]signed|unable to (get|verify)|certificate/i)
})

test('mosquitto_sub and mosquitto_pub with --cafile: a round trip over TLS', async ({ pki }) => {
  const broker = await startListenerBroker({ tlsPort: 0, tlsCert: pki.serverCert, tlsKey: pki.serverKey })
  const endpoint = ['-h', '127.0.0.1', '-p', String(broker.port('tls')), '--cafile', pki.ca]
  const sub = spawnTracked('stdbuf', ['-oL', 'mosquitto_sub', ...endpoint, '-d', '-t', 'tls/mosquitto', '-q', '1', '-C', '1', '-F', 'MSG|%t|%p'])
  await sub.waitForLine(line => line.startsWith('Subscribed (mid:'), TIMEOUT_MS)
  const pub = await run('mosquitto_pub', [...endpoint, '-t', 'tls/mosquitto', '-q', '1', '-m', 'via mosquitto'], { timeoutMs: TIMEOUT_MS })
  assert.is(pub.code, 0, pub.stderr)
  const line = await sub.waitForLine(text => text.startsWith('MSG|'), TIMEOUT_MS)
  assert.is(line, 'MSG|tls/mosquitto|via mosquitto')
  assert.is((await sub.waitForExit(TIMEOUT_MS)).code, 0)
})

test('requireCertificate: a client certificate from the CA gets in; none, or one from another CA, is refused', async ({ pki }) => {
  const broker = await tlsBroker(pki, { ca: pki.ca, requireCertificate: true })
  const url = `mqtts://127.0.0.1:${broker.port('tls')}`
  const client = await connectClient(url, withCertificate(pki))
  await client.publishAsync('cert/ok', 'in', { qos: 1 })
  await connectionRefusal(url, trusting(pki))
  await connectionRefusal(url, withCertificate(pki, pki.strangerCert, pki.strangerKey))
  await eventually(() => broker.logs.filter(line => line.msg === 'client refused by the listener').length >= 2, 'two refusals logged')
  const refused = broker.logs.filter(line => line.msg === 'client refused by the listener')
  assert.ok(refused.every(line => line.listener === 'tls' && typeof line.address === 'string' && typeof line.reason === 'string'), JSON.stringify(refused))
  assert.is(broker.logs.filter(line => line.msg === 'client connected').length, 1, 'only the client with a certificate connected')
})

test('requireCertificate with mosquitto_pub: --cert/--key gets in, without them it fails', async ({ pki }) => {
  const broker = await tlsBroker(pki, { ca: pki.ca, requireCertificate: true })
  const endpoint = ['-h', '127.0.0.1', '-p', String(broker.port('tls')), '--cafile', pki.ca, '-t', 'cert/mosquitto', '-m', 'x', '-q', '1']
  const withCert = await run('mosquitto_pub', [...endpoint, '--cert', pki.clientCert, '--key', pki.clientKey], { timeoutMs: TIMEOUT_MS })
  assert.is(withCert.code, 0, withCert.stderr)
  const without = await run('mosquitto_pub', endpoint, { timeoutMs: TIMEOUT_MS })
  assert.is.not(without.code, 0, `refused without a certificate:\n${without.stdout}${without.stderr}`)
  assert.is(broker.logs.filter(line => line.msg === 'client connected').length, 1)
})

test('--tls-ca alone makes --tls-port require client certificates', async ({ pki }) => {
  const broker = await startListenerBroker({ tlsPort: 0, tlsCert: pki.serverCert, tlsKey: pki.serverKey, tlsCa: pki.ca })
  const url = `mqtts://127.0.0.1:${broker.port('tls')}`
  await connectClient(url, withCertificate(pki))
  await connectionRefusal(url, trusting(pki))
})

test('minVersion TLSv1.3: a TLS 1.2 client is refused (Node and openssl s_client), mosquitto_pub on TLS 1.3 gets in', async ({ pki }) => {
  const broker = await tlsBroker(pki, { minVersion: 'TLSv1.3' })
  const port = broker.port('tls')
  const handshake = await new Promise<string>(resolve => {
    const socket = tlsConnect({ host: '127.0.0.1', port, ca: readFileSync(pki.ca), maxVersion: 'TLSv1.2' })
    socket.once('secureConnect', () => { resolve(`connected with ${socket.getProtocol() ?? '?'}`); socket.destroy() })
    socket.once('error', error => resolve(error.message))
  })
  assert.match(handshake, /protocol version|unsupported/i)
  // mosquitto_pub's --tls-version is a minimum, so it cannot offer TLS 1.2 alone; s_client can.
  const old = await run('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-tls1_2', '-CAfile', pki.ca], { timeoutMs: TIMEOUT_MS })
  assert.is.not(old.code, 0, `TLS 1.2 refused:\n${old.stdout}${old.stderr}`)
  assert.match(old.stderr, /protocol version/i)
  const current = await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(port), '--cafile', pki.ca, '--tls-version', 'tlsv1.3', '-t', 'v', '-m', 'x'], { timeoutMs: TIMEOUT_MS })
  assert.is(current.code, 0, current.stderr)
  const refused = broker.logs.filter(line => line.msg === 'client refused by the listener')
  assert.ok(refused.length >= 2 && refused.every(line => /protocol/i.test(String(line.reason))), JSON.stringify(refused))
})

test('useIdentityAsUsername: the authenticator sees the certificate CN, whatever username CONNECT gives', async ({ pki }) => {
  const authenticator = new RecordingAuthenticator()
  const broker = await tlsBroker(pki, { ca: pki.ca, requireCertificate: true, useIdentityAsUsername: true }, authenticator)
  const url = `mqtts://127.0.0.1:${broker.port('tls')}`
  await connectClient(url, { ...withCertificate(pki), clientId: 'named', username: 'bob', password: 'secret' })
  await connectClient(url, { ...withCertificate(pki), clientId: 'anonymous', protocolVersion: 5 })
  assert.is(authenticator.usernameOf('named'), CLIENT_CN)
  assert.is(authenticator.usernameOf('anonymous'), CLIENT_CN)
  assert.is(authenticator.requests.find(request => request.clientId === 'named')?.password?.toString(), 'secret', 'the password still reaches the authenticator')
  // The plain TCP listener has no identity to give: the CONNECT username stays.
  await connectClient(`mqtt://127.0.0.1:${broker.port('tcp')}`, { clientId: 'plain', username: 'bob' })
  assert.is(authenticator.usernameOf('plain'), 'bob')
})

for (const [field, expected] of [['email', 'alice@example.com'], ['dns', 'alice.devices.example'], ['uri', 'spiffe://example/alice']] as const) {
  test(`useIdentityAsUsername with identityField ${field}: the ${field} SAN is the username`, async ({ pki }) => {
    const authenticator = new RecordingAuthenticator()
    const broker = await tlsBroker(pki, { ca: pki.ca, requireCertificate: true, useIdentityAsUsername: true, identityField: field }, authenticator)
    await connectClient(`mqtts://127.0.0.1:${broker.port('tls')}`, { ...withCertificate(pki), clientId: `by-${field}` })
    assert.is(authenticator.usernameOf(`by-${field}`), expected)
  })
}

test('useIdentityAsUsername with a password file: the certificate is the login (no password needed), and its CN is who the ACL rules name', async ({ pki }) => {
  const dir = mkdtempSync(join(tmpdir(), 'troupe-tls-identity-'))
  try {
    const passwords = join(dir, 'passwords')
    writeFileSync(passwords, `alice:${libargon2Hash('wonderland')}\n`)
    const broker = await startListenerBroker({
      passwordFile: passwords,
      acl: [{ kind: 'topic', user: CLIENT_CN, access: 'readwrite', topic: 'devices/#' }],
      listeners: [{ type: 'tls', port: 0, host: '127.0.0.1', cert: pki.serverCert, key: pki.serverKey, ca: pki.ca, requireCertificate: true, useIdentityAsUsername: true }]
    })
    const device = await connectClient(`mqtts://127.0.0.1:${broker.port('tls')}`, { ...withCertificate(pki), clientId: 'device' })
    const received = collect(device)
    await device.subscribeAsync('devices/#')
    await device.publishAsync('devices/1', 'on', { qos: 1 })
    await eventually(() => received.length === 1, 'its own message, by the rule for its CN')
    const other = await device.subscribeAsync('other/#').then(() => 'granted', (error: Error) => error.message)
    assert.is.not(other, 'granted', 'no rule for the CN grants other/#')
    const refusal = await connectionRefusal(`mqtt://127.0.0.1:${broker.port('tcp')}`, { clientId: 'no-cert', username: CLIENT_CN })
    assert.match(refusal, /Bad username or password/i, 'on the plain listener the same name needs a password from the file')
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('useIdentityAsUsername: a certificate without a CN is refused, and the log says why', async ({ pki }) => {
  const authenticator = new RecordingAuthenticator()
  const broker = await tlsBroker(pki, { ca: pki.ca, requireCertificate: true, useIdentityAsUsername: true }, authenticator)
  await connectionRefusal(`mqtts://127.0.0.1:${broker.port('tls')}`, withCertificate(pki, pki.namelessCert, pki.namelessKey))
  await eventually(() => broker.logs.some(line => line.msg === 'client refused by the listener'), 'the refusal logged')
  const refused = broker.logs.find(line => line.msg === 'client refused by the listener')!
  assert.match(String(refused.reason), /no CN to use as username/)
  assert.is(authenticator.requests.length, 0)
})

test('a certificate file that cannot be read stops the start with an error naming the listener and the file', async ({ pki }) => {
  const missing = `${pki.dir}/missing.pem`
  try {
    await startListenerBroker({ tlsPort: 0, tlsCert: missing, tlsKey: pki.serverKey })
    assert.unreachable('the broker started')
  } catch (error) {
    assert.instance(error, ListenerSetupError)
    const setup = error as ListenerSetupError
    assert.is(setup.stage, 'configuration')
    assert.ok(setup.message.includes('tls listener (--tls-port)') && setup.message.includes(missing) && setup.message.includes('ENOENT'), setup.message)
  }
})

test('a key that does not belong to the certificate stops the start', async ({ pki }) => {
  try {
    await startListenerBroker({ listeners: [{ type: 'tls', port: 0, cert: pki.serverCert, key: pki.clientKey }] })
    assert.unreachable('the broker started')
  } catch (error) {
    assert.instance(error, ListenerSetupError)
    assert.match((error as Error).message, /^listeners\[0\] \(tls\): its TLS settings do not work/)
  }
})

test('a listener whose port is taken fails the start naming it, and the broker closes what it opened', async ({ pki }) => {
  const first = await startListenerBroker({ tlsPort: 0, tlsCert: pki.serverCert, tlsKey: pki.serverKey })
  try {
    await startListenerBroker({ tlsPort: first.port('tls'), tlsCert: pki.serverCert, tlsKey: pki.serverKey })
    assert.unreachable('the second broker started')
  } catch (error) {
    assert.instance(error, ListenerSetupError)
    assert.is((error as ListenerSetupError).stage, 'bind')
    assert.ok((error as Error).message.includes('tls listener (--tls-port)') && (error as Error).message.includes('already in use'), (error as Error).message)
  }
})

test.run()
