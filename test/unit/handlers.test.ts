import type { Packet } from 'mqtt-packet'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { pino } from 'pino'
import { createActor } from 'xstate'
import { allowAnonymous } from '../../actors/connection/authenticator.js'
import type { BrokerServices } from '../../actors/connection/broker-services.js'
import type { Authorizer, Permission } from '../../actors/connection/authorizer.js'
import { AwaitingPermission } from '../../actors/connection/awaiting-permission.js'
import type { CloseReason } from '../../actors/connection/close-reason.js'
import type { ConnectionLink } from '../../actors/connection/connection-link.js'
import { PermissionMemo } from '../../actors/connection/permission-memo.js'
import { connectionSupervisorMachine } from '../../actors/connection/connection-supervisor.machine.js'
import { dispatchPacket } from '../../actors/connection/dispatch-packet.js'
import { FailedLogins } from '../../actors/connection/failed-logins.js'
import { KeepAliveSweeper } from '../../actors/connection/keep-alive.js'
import { inspectConnect, type AcceptedConnect } from '../../actors/connection/handlers/connect.js'
import { capabilitiesFor } from '../../actors/connection/protocol/protocol-version.js'
import { TopicAliases } from '../../actors/connection/protocol/topic-aliases.js'
import { createMessage } from '../../actors/router/message.js'
import { Router } from '../../actors/router/router.js'
import { routerMachine } from '../../actors/router/router.machine.js'
import type { Delivery } from '../../actors/session/delivery.js'
import { SessionRegistry, type SessionTenant } from '../../actors/session/session-registry.js'
import { createTrafficCounters } from '../../runtime/metrics/traffic-counters.js'

/** A connection without a socket: real router and sessions, packets recorded instead of written. */
class TestLink implements ConnectionLink, SessionTenant {
  readonly protocol = capabilitiesFor(4)!
  readonly sent: Packet[] = []
  readonly deliveries: Array<{ delivery: Delivery, packetId: number | undefined }> = []
  readonly backedUp = false
  readonly receiveMaximum = 65535
  readonly topicAliases = new TopicAliases(10, 0)
  readonly session
  readonly connect: AcceptedConnect
  readonly decided = new PermissionMemo()
  constructor (readonly clientId: string, readonly broker: BrokerServices) {
    this.connect = inspectConnect({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId, keepalive: 10 }, broker.settings, () => 'x') as AcceptedConnect
    this.session = broker.sessions.claim(clientId, true, 0, this).session
  }

  send (packet: Packet): void { this.sent.push(packet) }
  // The memory store keeps nothing across restarts, so an acknowledgement goes at once.
  acknowledge (packet: Packet, then?: () => void): void {
    this.send(packet)
    then?.()
  }
  reauthenticate (): undefined { return undefined }
  receiveAuth (): void {}
  sendPublish (delivery: Delivery, packetId: number | undefined): boolean {
    this.deliveries.push({ delivery, packetId })
    return true
  }
  sendPubrel (packetId: number): void { this.sent.push({ cmd: 'pubrel', messageId: packetId }) }
  takeOver (): void {}
  permission (action: string, subject: string, ask: () => Permission): Permission {
    return this.decided.permission(action, subject, ask)
  }
}

/** The close reason's kind of a handler's outcome, or 'awaiting' when it waits for a permission. */
function kindOf (outcome: CloseReason | AwaitingPermission | undefined): string | undefined {
  return outcome instanceof AwaitingPermission ? 'awaiting' : outcome?.kind
}

function brokerServices (): BrokerServices {
  const router = new Router(createActor(routerMachine, { input: { onRetainedChange: () => {} } }))
  router.actor.start()
  return {
    router,
    sessions: new SessionRegistry({ limits: { maxInflight: 10, maxQueued: 10 }, observer: { dropped: () => {} }, onDiscard: session => router.forget(session), publishWill: will => router.publish(will) }),
    settings: { maxKeepalive: 60, maxPacketSize: 1 << 20, connectTimeoutMs: 1000, outboxHighWaterMark: 1 << 20, receiveMaximum: 10, maxSessionExpiry: 4294967295, maxTopicAlias: 10, subscribeDeniedReason: 0x87, maxClientIdLength: 65535, topicLimits: { maxLength: 65535, maxLevels: 128 }, maxSubscriptions: 0, maxMessageRate: 0, maxBandwidth: 0 },
    authenticator: allowAnonymous,
    authMethods: new Map(),
    failedLogins: new FailedLogins({ perMinute: 0, banSeconds: 1 }),
    counters: createTrafficCounters(),
    log: pino({ level: 'silent' }),
    keepAlive: new KeepAliveSweeper(),
    supervisor: createActor(connectionSupervisorMachine, { input: { log: pino({ level: 'silent' }) } }),
    afterWrites: then => then(),
    assignClientId: () => 'assigned',
    saveSession: () => {},
    overloaded: false,
    limitReached: () => {}
  }
}

const publish = (topic: string, qos: 0 | 1 | 2, messageId?: number, extra: Record<string, unknown> = {}): Packet =>
  ({ cmd: 'publish', topic, payload: Buffer.from('p'), qos, retain: false, dup: false, ...(messageId !== undefined ? { messageId } : {}), ...extra }) as Packet

const test = suite('packet handlers')

test('[MQTT-4.3.2-1] QoS 1 PUBLISH is routed and answered with PUBACK carrying its id', () => {
  const broker = brokerServices()
  const publisher = new TestLink('pub', broker)
  const subscriber = new TestLink('sub', broker)
  dispatchPacket(subscriber, { cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'a/+', qos: 1 }] })
  assert.is(dispatchPacket(publisher, publish('a/b', 1, 7)), undefined)
  assert.equal(publisher.sent, [{ cmd: 'puback', messageId: 7 }])
  assert.is(subscriber.deliveries.length, 1)
  assert.is(subscriber.deliveries[0]!.delivery.qos, 1)
})

test('[MQTT-4.3.3-2] a re-sent QoS 2 PUBLISH before PUBREL is not routed twice', () => {
  const broker = brokerServices()
  const publisher = new TestLink('pub', broker)
  const subscriber = new TestLink('sub', broker)
  dispatchPacket(subscriber, { cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'x', qos: 2 }] })
  dispatchPacket(publisher, publish('x', 2, 9))
  dispatchPacket(publisher, publish('x', 2, 9, { dup: true }))
  assert.is(subscriber.deliveries.length, 1)
  assert.equal(publisher.sent.map(p => p.cmd), ['pubrec', 'pubrec'])
  dispatchPacket(publisher, { cmd: 'pubrel', messageId: 9 })
  assert.equal(publisher.sent[2], { cmd: 'pubcomp', messageId: 9 })
  dispatchPacket(publisher, publish('x', 2, 9))
  assert.is(subscriber.deliveries.length, 2, 'after PUBREL the id is free for a new message')
})

test('[MQTT-3.3.2-2] [MQTT-2.3.1-1] PUBLISH with a wildcard topic or QoS 1 packet id 0 closes the connection', () => {
  const broker = brokerServices()
  const link = new TestLink('c', broker)
  assert.is(kindOf(dispatchPacket(link, publish('a/#', 0))), 'protocol-error')
  assert.is(kindOf(dispatchPacket(link, publish('a', 1, 0))), 'protocol-error')
})

test('[MQTT-3.8.4-1] [MQTT-3.9.3-1] SUBACK has one return code per filter in order, 0x80 for an invalid one', () => {
  const broker = brokerServices()
  const link = new TestLink('c', broker)
  dispatchPacket(link, { cmd: 'subscribe', messageId: 3, subscriptions: [{ topic: 'a', qos: 2 }, { topic: 'a#', qos: 1 }, { topic: 'b', qos: 0 }] })
  assert.equal(link.sent, [{ cmd: 'suback', messageId: 3, granted: [2, 0x80, 0] }])
})

test('[MQTT-3.8.4-4] retained messages follow the SUBACK with the retain flag, at min(QoS)', () => {
  const broker = brokerServices()
  broker.router.publish(createMessage({ topic: 'r/1', payload: Buffer.from('v'), qos: 2, retain: true }))
  const link = new TestLink('c', broker)
  dispatchPacket(link, { cmd: 'subscribe', messageId: 4, subscriptions: [{ topic: 'r/#', qos: 1 }] })
  assert.is(link.sent[0]!.cmd, 'suback')
  assert.is(link.deliveries.length, 1)
  assert.is(link.deliveries[0]!.delivery.retain, true)
  assert.is(link.deliveries[0]!.delivery.qos, 1)
})

test('[MQTT-3.10.4-5] UNSUBACK is sent even when no subscription existed, and delivery stops', () => {
  const broker = brokerServices()
  const link = new TestLink('c', broker)
  dispatchPacket(link, { cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 't', qos: 0 }] })
  dispatchPacket(link, { cmd: 'unsubscribe', messageId: 2, unsubscriptions: ['t', 'never'] })
  assert.equal(link.sent[1]!.cmd, 'unsuback')
  broker.router.publish(createMessage({ topic: 't', payload: Buffer.from('x'), qos: 0, retain: false }))
  assert.is(link.deliveries.length, 0)
})

test('[MQTT-3.12.4-1] PINGREQ is answered with PINGRESP; client-only packets close', () => {
  const broker = brokerServices()
  const link = new TestLink('c', broker)
  dispatchPacket(link, { cmd: 'pingreq' })
  assert.equal(link.sent, [{ cmd: 'pingresp' }])
  assert.is(kindOf(dispatchPacket(link, { cmd: 'pingresp' })), 'protocol-error')
  assert.is(kindOf(dispatchPacket(link, { cmd: 'connack', sessionPresent: false, returnCode: 0 })), 'protocol-error')
})

test('a SUBSCRIBE whose permissions are decided later waits untouched, then is answered with each filter decided once', async () => {
  const asked: string[] = []
  const authorizer: Authorizer = {
    authorizePublish: () => true,
    authorizeSubscribe: async ({ filter }) => {
      asked.push(filter)
      return filter !== 'secret/#'
    },
    authorizeRead: () => true,
    mayAnswerLater: true
  }
  const broker = { ...brokerServices(), authorizer }
  const link = new TestLink('c', broker)
  const packet: Packet = { cmd: 'subscribe', messageId: 5, subscriptions: [{ topic: 'open/+', qos: 1 }, { topic: 'secret/#', qos: 1 }] }
  const outcome = dispatchPacket(link, packet)
  assert.instance(outcome, AwaitingPermission)
  assert.equal(link.sent, [], 'no SUBACK before the decisions')
  assert.is(link.session.subscriptions.size, 0, 'nothing subscribed before the decisions')
  await (outcome as AwaitingPermission).decided
  assert.is(dispatchPacket(link, packet), undefined)
  assert.equal(link.sent, [{ cmd: 'suback', messageId: 5, granted: [1, 0x80] }])
  assert.equal(asked, ['open/+', 'secret/#'], 'each filter asked once')
  assert.equal([...link.session.subscriptions.keys()], ['open/+'])
})

test('a PUBLISH whose permission is decided later is routed once it is allowed, and dropped when refused', async () => {
  const authorizer: Authorizer = {
    authorizePublish: async ({ topic }) => topic === 'allowed',
    authorizeSubscribe: () => true,
    authorizeRead: () => true,
    mayAnswerLater: true
  }
  const broker = { ...brokerServices(), authorizer }
  const publisher = new TestLink('pub', broker)
  const subscriber = new TestLink('sub', broker)
  dispatchPacket(subscriber, { cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: '#', qos: 1 }] })
  for (const [topic, routed] of [['allowed', 1], ['refused', 0]] as const) {
    const packet = publish(topic, 1, 8)
    const outcome = dispatchPacket(publisher, packet)
    assert.instance(outcome, AwaitingPermission)
    assert.is(subscriber.deliveries.length, 0, 'not routed while waiting')
    await (outcome as AwaitingPermission).decided
    assert.is(dispatchPacket(publisher, packet), undefined)
    publisher.decided.clear()
    assert.is(subscriber.deliveries.length, routed, topic)
    subscriber.deliveries.length = 0
  }
  assert.equal(publisher.sent, [{ cmd: 'puback', messageId: 8 }, { cmd: 'puback', messageId: 8 }], 'v3: a refused message is still acknowledged [MQTT-3.3.5-2]')
})

test.run()
