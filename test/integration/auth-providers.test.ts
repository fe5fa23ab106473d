import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { MqttClient } from 'mqtt'
import type { IConnackPacket } from 'mqtt-packet'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { AuthProviderEntry } from '../../runtime/config/auth-providers-option.js'
import { collect, connectClient, eventually, quietFor } from '../helpers/mqtt-clients.js'
import { openV5 } from '../helpers/mqtt5-clients.js'
import { RawClient } from '../helpers/raw-client.js'
import { startBroker, type TestBroker } from '../helpers/test-broker.js'
import { closeTestClients } from '../helpers/broker-per-test.js'

/**
 * Auth providers with real modules on disk and a real HTTP service: the first provider that
 * allows or denies decides, the rest (and the password file, ACL, allow-anonymous) only see
 * what it ignores; answers that come later hold the client's packets, in order; a provider
 * that fails or does not answer in time refuses (fail closed) and the broker stays up.
 */

interface Context {
  dir: string
  brokers: TestBroker[]
  servers: Server[]
}

const test = suite<Context>('auth providers: modules and HTTP, chained')

test.before(context => {
  context.dir = mkdtempSync(join(tmpdir(), 'troupe-auth-providers-'))
  context.brokers = []
  context.servers = []
})
test.after(context => { rmSync(context.dir, { recursive: true, force: true }) })
test.after.each(async context => {
  await closeTestClients()
  for (const broker of context.brokers.splice(0)) await broker.close()
  for (const server of context.servers.splice(0)) await new Promise(resolve => server.close(resolve))
})

/** Alice is the module's to decide; its publish check answers after a delay, as a remote one would. */
const ALICE_MODULE = `
export async function authenticate ({ username, password }) {
  if (username !== 'alice') return 'ignore'
  return password?.toString() === 'wonderland' ? 'allow' : 'deny'
}
export async function authorizePublish ({ topic }) {
  await new Promise(resolve => setTimeout(resolve, 5 + Math.random() * 20))
  return topic.startsWith('forbidden/') ? 'deny' : undefined
}
export function authorizeSubscribe ({ filter }) {
  return filter === 'secret/#' ? 'deny' : 'ignore'
}
`

function moduleFile (context: Context, name: string, source: string): string {
  const path = join(context.dir, name)
  writeFileSync(path, source)
  return path
}

async function brokerWith (context: Context, providers: readonly AuthProviderEntry[], overrides: Record<string, unknown> = {}): Promise<TestBroker> {
  const broker = await startBroker({ authProviders: providers, ...overrides })
  context.brokers.push(broker)
  return broker
}

const module = (path: string, fields: Partial<Extract<AuthProviderEntry, { type: 'module' }>> = {}): AuthProviderEntry =>
  ({ type: 'module', path, timeoutMs: 5000, cacheSeconds: 0, ...fields })

const http = (url: string, fields: Partial<Extract<AuthProviderEntry, { type: 'http' }>> = {}): AuthProviderEntry =>
  ({ type: 'http', url, timeoutMs: 5000, cacheSeconds: 60, headers: {}, ...fields })

/** CONNACK for a CONNECT with these credentials: its reason code (v5) or return code (v3). */
async function connackCode (broker: TestBroker, version: 4 | 5, username?: string, password?: string): Promise<number> {
  const client = await RawClient.connect(broker.port, version)
  const connack: IConnackPacket = await client.handshake({
    protocolVersion: version,
    clientId: `c-${Math.random().toString(36).slice(2)}`,
    ...(username === undefined ? {} : { username }),
    ...(password === undefined ? {} : { password: Buffer.from(password) })
  })
  client.end()
  return (version === 5 ? connack.reasonCode : connack.returnCode) ?? -1
}

/** The reason code of the v5 PUBACK for a QoS 1 publish (MQTT.js rejects on a failure code, and names it). */
async function pubackCode (client: MqttClient, topic: string): Promise<number> {
  try {
    const puback = await client.publishAsync(topic, 'x', { qos: 1 })
    return puback !== undefined && 'reasonCode' in puback ? puback.reasonCode ?? 0 : 0
  } catch (error) {
    return (error as { code?: number }).code ?? -1
  }
}

/** The SUBACK codes for these filters, from a raw client (MQTT.js rejects a SUBACK with a failure). */
async function subackCodes (broker: TestBroker, version: 4 | 5, filters: readonly string[], username?: string, password?: string): Promise<number[]> {
  const client = await RawClient.connect(broker.port, version)
  await client.handshake({ protocolVersion: version, clientId: `s-${username ?? 'anonymous'}`, ...(username === undefined ? {} : { username, password: Buffer.from(password ?? '') }) })
  client.send({ cmd: 'subscribe', messageId: 1, subscriptions: filters.map(topic => ({ topic, qos: 1 })) })
  const suback = await client.next('suback')
  client.end()
  return suback.granted as number[]
}

interface AuthService {
  readonly url: string
  readonly requests: Array<Record<string, unknown>>
  answer: (body: Record<string, unknown>, response: ServerResponse) => void
}

/** A real HTTP auth service on 127.0.0.1 whose answers a test sets. */
async function authService (context: Context): Promise<AuthService> {
  const service: AuthService = {
    url: '',
    requests: [],
    answer: (_body, response) => response.writeHead(204).end()
  }
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown>
      service.requests.push({ ...body, contentType: request.headers['content-type'], token: request.headers['x-token'] })
      service.answer(body, response)
    })
  })
  context.servers.push(server)
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return Object.assign(service, { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/mqtt/auth` })
}

const result = (response: ServerResponse, value: string): void => { response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ result: value })) }

test('[MQTT-3.1.4-2] a module decides its users\' logins (v5 0x86, v3 return code 4 for a wrong password); users it ignores fall through to allow-anonymous', async context => {
  const broker = await brokerWith(context, [module(moduleFile(context, 'alice.mjs', ALICE_MODULE))])
  assert.is(await connackCode(broker, 5, 'alice', 'wonderland'), 0)
  assert.is(await connackCode(broker, 5, 'alice', 'looking-glass'), 0x86)
  assert.is(await connackCode(broker, 4, 'alice', 'looking-glass'), 4)
  assert.is(await connackCode(broker, 4, 'bob', 'anything'), 0, 'ignored by the module: allow-anonymous (default true) decides')
  const refused = broker.logs.filter(line => line.msg === 'login failed')
  assert.is(refused.length, 2)
  assert.match(String(refused[0]!.address), /^127\.0\.0\.1:\d+$/, 'a failed login is logged with the client address')
  assert.not.ok(JSON.stringify(broker.logs).includes('looking-glass'), 'the password is never logged')
})

test('a module that answers later: denied publishes get PUBACK 0x87, the subscriber gets the allowed ones in the order they were sent', async context => {
  const broker = await brokerWith(context, [module(moduleFile(context, 'alice.mjs', ALICE_MODULE))])
  const subscriber = await connectClient(broker.url, { clientId: 'watcher' })
  const received = collect(subscriber)
  await subscriber.subscribeAsync('#', { qos: 1 })
  const { client: publisher } = await openV5(broker, { clientId: 'publisher' })
  const sent: string[] = []
  for (let index = 0; index < 40; index++) {
    const topic = index % 3 === 0 ? `forbidden/${index}` : `open/${index}`
    publisher.publish(topic, String(index), { qos: index % 2 === 0 ? 0 : 1 })
    if (!topic.startsWith('forbidden/')) sent.push(topic)
  }
  assert.is(await pubackCode(publisher, 'forbidden/qos1'), 0x87, 'v5: the publisher learns it was refused')
  assert.is(await pubackCode(publisher, 'open/last'), 0)
  await eventually(() => received.length >= sent.length + 1, 'the allowed messages')
  assert.equal(received.map(message => message.topic), [...sent, 'open/last'], 'every allowed message, in order, none of the denied')
})

test('a module denies a subscription: SUBACK 0x87 (v5) and 0x80 (v3); the other filters of the same SUBSCRIBE are granted', async context => {
  const broker = await brokerWith(context, [module(moduleFile(context, 'alice.mjs', ALICE_MODULE))])
  assert.equal(await subackCodes(broker, 4, ['secret/#', 'news/#']), [0x80, 1])
  assert.equal(await subackCodes(broker, 5, ['secret/#', 'news/#']), [0x87, 1])
})

test('a will on a topic the provider denies is discarded: it is decided while the client authenticates', async context => {
  const broker = await brokerWith(context, [module(moduleFile(context, 'alice.mjs', ALICE_MODULE))])
  const watcher = await connectClient(broker.url, { clientId: 'watcher' })
  const received = collect(watcher)
  await watcher.subscribeAsync('#')
  for (const topic of ['forbidden/will', 'open/will']) {
    const client = await RawClient.connect(broker.port, 4)
    const connack = await client.handshake({ clientId: `dies-${topic}`, will: { topic, payload: Buffer.from('gone'), qos: 0, retain: false } })
    assert.is(connack.returnCode, 0)
    client.end()
  }
  await eventually(() => received.some(message => message.topic === 'open/will'), 'the allowed will')
  await quietFor(200)
  assert.equal(received.map(message => message.topic), ['open/will'])
})

test('chained: the module decides alice, the HTTP service everyone it ignores; the service gets JSON, its headers and is asked once per cached answer', async context => {
  const service = await authService(context)
  service.answer = (body, response) => {
    if (body.action === 'connect') return result(response, body.username === 'svc' && body.password === 'token' ? 'allow' : 'deny')
    if (body.action === 'subscribe') return result(response, body.filter === 'internal/#' ? 'deny' : 'allow')
    response.writeHead(204).end()
  }
  const broker = await brokerWith(context, [
    module(moduleFile(context, 'alice.mjs', ALICE_MODULE)),
    http(service.url, { headers: { 'x-token': 'shared-secret' } })
  ])
  assert.is(await connackCode(broker, 5, 'alice', 'wonderland'), 0)
  assert.not.ok(service.requests.some(request => request.username === 'alice'), 'alice was decided by the module: the service is not asked')
  assert.is(await connackCode(broker, 5, 'svc', 'token'), 0)
  assert.is(await connackCode(broker, 5, 'svc', 'wrong'), 0x86)
  assert.is(await connackCode(broker, 4, 'mallory', 'x'), 4)
  const connects = service.requests.filter(request => request.action === 'connect')
  assert.equal(connects.map(request => request.username), ['svc', 'svc', 'mallory'])
  assert.is(connects[0]!.contentType, 'application/json')
  assert.is(connects[0]!.token, 'shared-secret')
  assert.match(String(connects[0]!.address), /^127\.0\.0\.1:\d+$/)
  assert.is(connects[0]!.protocolVersion, 5)

  assert.equal(await subackCodes(broker, 4, ['internal/#'], 'svc', 'token'), [0x80])
  assert.equal(await subackCodes(broker, 4, ['internal/#', 'public/#'], 'svc', 'token'), [0x80, 1])
  const subscribes = service.requests.filter(request => request.action === 'subscribe')
  assert.equal(subscribes.map(request => request.filter), ['internal/#', 'public/#'], 'the second internal/# came from the cache')
  assert.is(service.requests.filter(request => request.action === 'connect').length, 4, 'the same client id and credentials twice: the second login came from the cache')
})

test('a failing HTTP service refuses logins with 0x88 (v3 return code 3) and logs it; once it answers again, clients get in', async context => {
  const service = await authService(context)
  service.answer = (_body, response) => { response.writeHead(500).end('database down') }
  const broker = await brokerWith(context, [http(service.url, { cacheSeconds: 0 })])
  assert.is(await connackCode(broker, 5, 'svc', 'token'), 0x88)
  assert.is(await connackCode(broker, 4, 'svc', 'token'), 3)
  const failure = broker.logs.find(line => line.msg.startsWith('auth provider failed'))
  assert.ok(failure, 'the failure is logged')
  assert.is(failure.provider, service.url)
  assert.match(String(failure.problem), /HTTP 500/)
  assert.is(broker.broker.counters.authFailures, 2)
  service.answer = (_body, response) => result(response, 'allow')
  assert.is(await connackCode(broker, 5, 'svc', 'token'), 0)
})

test('a provider that does not answer within its timeout, or throws, refuses (fail closed) and the broker keeps serving', async context => {
  const service = await authService(context)
  service.answer = () => {} // never answers
  const throwing = moduleFile(context, 'throwing.mjs', 'export function authorizePublish () { throw new Error("bug in the provider") }\n')
  const broker = await brokerWith(context, [http(service.url, { timeoutMs: 300 }), module(throwing)])
  const started = Date.now()
  assert.is(await connackCode(broker, 5, 'svc', 'token'), 0x88)
  assert.ok(Date.now() - started < 4000, 'refused at the timeout, not left hanging')
  service.answer = (_body, response) => result(response, 'ignore')
  const { client } = await openV5(broker, { clientId: 'publisher' })
  assert.is(await pubackCode(client, 'any/topic'), 0x87, 'a provider that throws refuses the publish')
  const problems = broker.logs.filter(line => line.msg.startsWith('auth provider failed')).map(line => String(line.problem))
  assert.ok(problems.some(problem => /no answer within 300 ms|aborted|timeout/i.test(problem)), problems.join('; '))
  assert.ok(problems.some(problem => problem.includes('bug in the provider')), problems.join('; '))
})

test('failed logins: after failed-login-limit wrong passwords an address is banned (v5 0x8A, v3 5), even with the right password, logged once', async context => {
  const broker = await brokerWith(context, [module(moduleFile(context, 'alice.mjs', ALICE_MODULE))], { failedLoginLimit: 3, failedLoginBan: 60 })
  for (let attempt = 0; attempt < 3; attempt++) assert.is(await connackCode(broker, 5, 'alice', `guess-${attempt}`), 0x86)
  assert.is(await connackCode(broker, 5, 'alice', 'wonderland'), 0x8a, 'banned: not even checked')
  assert.is(await connackCode(broker, 4, 'alice', 'wonderland'), 5)
  assert.is(broker.logs.filter(line => line.msg === 'login failed').length, 3, 'the refusals during the ban are not logged one by one')
  const bans = broker.logs.filter(line => line.msg.startsWith('address banned'))
  assert.is(bans.length, 1)
  assert.is(bans[0]!.address, '127.0.0.1')
  assert.is(broker.broker.counters.authFailures, 5)
})

test('a successful login clears its address\'s failures', async context => {
  const broker = await brokerWith(context, [module(moduleFile(context, 'alice.mjs', ALICE_MODULE))], { failedLoginLimit: 3, failedLoginBan: 60 })
  for (let round = 0; round < 3; round++) {
    assert.is(await connackCode(broker, 5, 'alice', 'wrong'), 0x86)
    assert.is(await connackCode(broker, 5, 'alice', 'wrong'), 0x86)
    assert.is(await connackCode(broker, 5, 'alice', 'wonderland'), 0, `round ${round}: two failures and a success never ban`)
  }
})

test.run()
