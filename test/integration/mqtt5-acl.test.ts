import { parse } from 'yaml'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { AclAuthorizer } from '../../runtime/authorization/acl-authorizer.js'
import { parseAclRuleList } from '../../runtime/authorization/acl-rule-list.js'
import { eventually, quietFor } from '../helpers/mqtt-clients.js'
import { acceptedV5, closeV5Clients, openV5, rawSubscribe, takePublishes } from '../helpers/mqtt5-clients.js'
import { killAll, run } from '../helpers/processes.js'
import { RawClient } from '../helpers/raw-client.js'
import { startBroker, type TestBroker } from '../helpers/test-broker.js'

/**
 * Authorization for MQTT 5 clients over real TCP, with the rules given as YAML data (the
 * configuration's form): refusals carry reason code 0x87 Not authorized on SUBACK, PUBACK and
 * PUBREC, and deliveries (shared subscriptions too) only reach clients that may read them.
 */
const test = suite<{ broker: TestBroker }>('mqtt5: authorization')

const RULES = `
- { user: alice, access: readwrite, topic: alice/# }
- { user: alice, access: deny, topic: alice/secret/# }
- { user: alice, access: read, topic: sensors/+/temp }
- { user: bob, access: write, topic: sensors/# }
- { user: bob, access: read, topic: alice/# }
- { pattern: true, access: readwrite, topic: devices/%c/# }
`

const NOT_AUTHORIZED = 0x87

test.before.each(async context => {
  context.broker = await startBroker({}, { authorizer: new AclAuthorizer(parseAclRuleList(parse(RULES), 'acl')) })
})
test.after.each(async context => {
  await killAll()
  RawClient.closeAll()
  await closeV5Clients()
  await context.broker.close()
})

test('[MQTT-3.8.4-7][MQTT-3.9.3-1][MQTT-3.9.3-2] SUBACK gives 0x87 Not authorized for each refused filter, in order', async ({ broker }) => {
  const { client } = await acceptedV5(broker, { clientId: 'alice-1', username: 'alice' })
  const codes = await rawSubscribe(client, [
    { topic: 'alice/#', qos: 2 },
    { topic: 'alice/secret/#', qos: 1 },
    { topic: 'sensors/#', qos: 1 },
    { topic: 'commands/#', qos: 0 },
    { topic: 'devices/alice-1/#', qos: 1 },
    { topic: 'devices/other/#', qos: 1 }
  ])
  assert.equal(codes, [2, NOT_AUTHORIZED, 1, NOT_AUTHORIZED, 1, NOT_AUTHORIZED])
})

test('[MQTT-3.8.4-7] a shared subscription is authorized by the filter after its share name', async ({ broker }) => {
  const { client } = await acceptedV5(broker, { clientId: 'alice-1', username: 'alice' })
  assert.equal(await rawSubscribe(client, [{ topic: '$share/workers/sensors/+/temp', qos: 1 }, { topic: '$share/workers/commands/#', qos: 1 }]), [1, NOT_AUTHORIZED])
})

test('[MQTT-3.4.2-1][MQTT-3.5.2-1][MQTT-4.3.3-9] a refused PUBLISH: PUBACK or PUBREC 0x87, QoS 0 dropped, the packet id free again', async ({ broker }) => {
  const reader = await openV5(broker, { clientId: 'bob-reader', username: 'bob' })
  await reader.client.subscribeAsync('alice/#', { qos: 2 })
  const { client } = await acceptedV5(broker, { clientId: 'bob-writer', username: 'bob' })
  client.send({ cmd: 'publish', topic: 'alice/q0', payload: Buffer.from('no'), qos: 0, retain: false, dup: false })
  client.send({ cmd: 'publish', topic: 'alice/q1', payload: Buffer.from('no'), qos: 1, retain: false, dup: false, messageId: 10 })
  const puback = await client.next('puback')
  assert.equal([puback.messageId, puback.reasonCode], [10, NOT_AUTHORIZED])
  client.send({ cmd: 'publish', topic: 'alice/q2', payload: Buffer.from('no'), qos: 2, retain: true, dup: false, messageId: 11 })
  const pubrec = await client.next('pubrec')
  assert.equal([pubrec.messageId, pubrec.reasonCode], [11, NOT_AUTHORIZED])
  // After PUBREC 0x87 the flow is over: the same id is a new message, here an allowed one.
  client.send({ cmd: 'publish', topic: 'sensors/hall/temp', payload: Buffer.from('ok'), qos: 2, retain: false, dup: false, messageId: 11 })
  const accepted = await client.next('pubrec')
  assert.equal([accepted.messageId, accepted.reasonCode], [11, 0x10], 'accepted (nobody subscribes to it)')
  await quietFor(100)
  assert.equal(reader.received, [], 'nothing refused was delivered')
  assert.not.ok(client.connectionClosed, 'a refusal does not close the connection')
  assert.equal(broker.broker.router.retainedFor('alice/#'), [], 'nor retained')
})

test('$SYS is read-only for clients whatever the rules, also without any: PUBACK 0x87', async () => {
  const open = await startBroker()
  try {
    const { client } = await acceptedV5(open, { clientId: 'forger' })
    client.send({ cmd: 'publish', topic: '$SYS/broker/clients/connected', payload: Buffer.from('forged'), qos: 1, retain: true, dup: false, messageId: 1 })
    const puback = await client.next('puback')
    assert.is(puback.reasonCode, NOT_AUTHORIZED)
    const connected = open.broker.router.retainedFor('$SYS/broker/clients/connected')
    assert.is(connected.length, 1, 'the broker\'s own value is retained')
    assert.match(connected[0]!.payload.toString(), /^\d+$/, 'the broker\'s own count, not the forged value')
  } finally {
    await open.close()
  }
})

test('deliveries through a wildcard or shared subscription reach only the clients that may read them', async ({ broker }) => {
  const alice = await openV5(broker, { clientId: 'alice-1', username: 'alice' })
  await alice.client.subscribeAsync('sensors/#', { qos: 1 })
  const { client: member } = await acceptedV5(broker, { clientId: 'alice-2', username: 'alice' })
  assert.equal(await rawSubscribe(member, [{ topic: '$share/g/sensors/#', qos: 1 }]), [1])
  const bob = await openV5(broker, { clientId: 'bob-1', username: 'bob' })
  await bob.client.publishAsync('sensors/attic/humidity', '70', { qos: 1 })
  await bob.client.publishAsync('sensors/attic/temp', '30', { qos: 1 })
  await eventually(() => alice.received.length > 0 && member.received.some(packet => packet.cmd === 'publish'), 'the temperature at both')
  await quietFor(100)
  assert.equal(alice.received.map(message => message.topic), ['sensors/attic/temp'])
  assert.equal(takePublishes(member).map(publish => publish.topic), ['sensors/attic/temp'])
})

test('[MQTT-3.1.2-8] a will on a topic the client may not write is discarded; an allowed one is published', async ({ broker }) => {
  const watcher = await openV5(broker, { clientId: 'bob-watch', username: 'bob' })
  await watcher.client.subscribeAsync('alice/#', { qos: 1 })
  const denied = await openV5(broker, { clientId: 'bob-gone', username: 'bob', will: { topic: 'alice/bob-left', payload: Buffer.from('bye'), qos: 1, retain: false } })
  const allowed = await openV5(broker, { clientId: 'alice-gone', username: 'alice', will: { topic: 'alice/alice-left', payload: Buffer.from('bye'), qos: 1, retain: false } })
  denied.client.stream.destroy()
  allowed.client.stream.destroy()
  await eventually(() => watcher.received.length > 0, 'alice\'s will')
  await quietFor(150)
  assert.equal(watcher.received.map(message => message.topic), ['alice/alice-left'])
})

test('mosquitto_pub (MQTT 5) is told its refused QoS 1 PUBLISH was not authorized', async ({ broker }) => {
  const result = await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(broker.port), '-V', 'mqttv5', '-u', 'bob', '-q', '1', '-t', 'alice/forged', '-m', 'x', '-d'], { timeoutMs: 10_000 })
  const output = result.stdout + result.stderr
  assert.match(output, /PUBACK \(Mid: 1, RC:135\)/, output)
})

test.run()
