import type { Packet } from 'mqtt-packet'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createActor, waitFor } from 'xstate'
import type { AuthenticationVerdict } from '../../actors/connection/authenticator.js'
import { closeReason, type CloseReason } from '../../actors/connection/close-reason.js'
import type { HeldPackets } from '../../actors/connection/awaiting-permission.js'
import type { ConnectionDriver } from '../../actors/connection/connection.events.js'
import { connectionMachine } from '../../actors/connection/connection.machine.js'
import { inspectConnect, type AcceptedConnect } from '../../actors/connection/handlers/connect.js'

const settings = { maxKeepalive: 60, maxPacketSize: 1024, connectTimeoutMs: 50, outboxHighWaterMark: 1024, receiveMaximum: 10, maxSessionExpiry: 4294967295, maxTopicAlias: 10, subscribeDeniedReason: 0x87 as const, maxClientIdLength: 65535, topicLimits: { maxLength: 65535, maxLevels: 128 }, maxSubscriptions: 0, maxMessageRate: 0, maxBandwidth: 0 }

/** A driver that records what the machine asks for, in order, instead of touching a socket. */
class RecordingDriver implements ConnectionDriver {
  readonly calls: string[] = []
  readonly dispatched: Packet[] = []
  finishedWith: CloseReason | undefined
  verdict: AuthenticationVerdict = { allowed: true }
  closeOn: Packet['cmd'] | undefined
  /** The actor driven, so the timers can send it their events as the real driver does. */
  actor: { send: (event: { type: 'connect.timeout', reason: CloseReason }) => void } | undefined
  private connectTimer: NodeJS.Timeout | undefined
  startConnectTimer (): void {
    this.connectTimer = setTimeout(() => this.actor?.send({ type: 'connect.timeout', reason: closeReason('connect-timeout', 'test') }), settings.connectTimeoutMs)
  }

  stopConnectTimer (): void {
    clearTimeout(this.connectTimer)
  }
  inspectConnect (packet: Packet) {
    this.calls.push('inspectConnect')
    return inspectConnect(packet as Extract<Packet, { cmd: 'connect' }>, settings, () => 'assigned-id')
  }

  authenticationNeeded = true
  needsAuthentication (): boolean {
    return this.authenticationNeeded
  }

  async authenticate (): Promise<AuthenticationVerdict> {
    this.calls.push('authenticate')
    return this.verdict
  }

  readonly authPackets: Packet[] = []
  receiveAuth (packet: Packet): void {
    this.authPackets.push(packet)
  }

  refuse (verdict: { connackReason: number | undefined }): void {
    this.calls.push(`refuse:${String(verdict.connackReason)}`)
  }

  openSession (verdict: AcceptedConnect): void {
    this.calls.push(`openSession:${verdict.clientId}`)
  }

  /** A packet that waits for a permission the first time it is dispatched, until `permit` is called. */
  holdOnce: Packet | undefined
  permit: () => void = () => {}

  dispatch (packets: readonly Packet[]): CloseReason | HeldPackets | undefined {
    for (const [index, packet] of packets.entries()) {
      if (packet === this.holdOnce) {
        this.holdOnce = undefined
        return { held: packets.slice(index), until: new Promise<void>(resolve => { this.permit = resolve }) }
      }
      this.dispatched.push(packet)
      if (packet.cmd === this.closeOn) return closeReason(packet.cmd === 'disconnect' ? 'client-disconnect' : 'protocol-error', packet.cmd)
    }
    return undefined
  }

  pauseReading (): void {
    this.calls.push('pauseReading')
  }

  resumeReading (): void {
    this.calls.push('resumeReading')
  }

  startKeepAlive (): void {
    this.calls.push('startKeepAlive')
  }

  stopKeepAlive (): void {
    this.calls.push('stopKeepAlive')
  }

  finish (reason: CloseReason): void {
    this.calls.push(`finish:${reason.kind}`)
    this.finishedWith = reason
  }
}

const connect = (fields: Record<string, unknown> = {}): Packet => ({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId: 'c1', keepalive: 10, ...fields }) as Packet

function start (driver = new RecordingDriver()) {
  const actor = createActor(connectionMachine, { input: { driver } })
  driver.actor = actor
  actor.start()
  return { actor, driver }
}

const test = suite('connection machine')

test('CONNECT, then authentication, then connected with the session opened and packets dispatched', async () => {
  const { actor, driver } = start()
  assert.is(actor.getSnapshot().value, 'awaitingConnect')
  actor.send({ type: 'packets.received', packets: [connect(), { cmd: 'pingreq' }] })
  await waitFor(actor, snapshot => snapshot.matches('connected'))
  assert.equal(driver.calls, ['inspectConnect', 'authenticate', 'openSession:c1', 'startKeepAlive'])
  assert.equal(driver.dispatched.map(p => p.cmd), ['pingreq'], 'packets behind CONNECT are dispatched after it')
  actor.send({ type: 'packets.received', packets: [{ cmd: 'pingreq' }, { cmd: 'pingreq' }] })
  assert.is(driver.dispatched.length, 3)
})

test('a packet waiting for a permission holds it and everything behind it, reading paused, then all run in order', async () => {
  const driver = new RecordingDriver()
  driver.authenticationNeeded = false
  const { actor } = start(driver)
  const waiting: Packet = { cmd: 'publish', topic: 'asked', payload: Buffer.alloc(0), qos: 0, dup: false, retain: false }
  driver.holdOnce = waiting
  actor.send({ type: 'packets.received', packets: [connect(), { cmd: 'pingreq' }, waiting, { cmd: 'pingreq' }] })
  assert.equal(actor.getSnapshot().value, { connected: 'awaitingPermission' })
  assert.ok(driver.calls.includes('pauseReading'))
  actor.send({ type: 'packets.received', packets: [{ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 't', qos: 0 }] }] })
  assert.equal(driver.dispatched.map(p => p.cmd), ['pingreq'], 'only what came before the waiting packet')
  driver.permit()
  await waitFor(actor, snapshot => snapshot.matches({ connected: 'serving' }))
  assert.equal(driver.dispatched.map(p => p.cmd), ['pingreq', 'publish', 'pingreq', 'subscribe'], 'in arrival order')
  assert.is(driver.calls.at(-1), 'resumeReading')
})

test('with nobody to authenticate, CONNECT goes straight to connected without an authentication step', () => {
  const driver = new RecordingDriver()
  driver.authenticationNeeded = false
  const { actor } = start(driver)
  actor.send({ type: 'packets.received', packets: [connect()] })
  assert.equal(actor.getSnapshot().value, { connected: 'serving' }, 'synchronously, in the same event')
  assert.equal(driver.calls, ['inspectConnect', 'openSession:c1', 'startKeepAlive'])
})

test('[MQTT-3.1.0-1] a first packet other than CONNECT closes without a session', () => {
  const { actor, driver } = start()
  actor.send({ type: 'packets.received', packets: [{ cmd: 'pingreq' }] })
  assert.is(actor.getSnapshot().value, 'closed')
  assert.is(driver.finishedWith?.kind, 'protocol-error')
  assert.not.ok(driver.calls.some(call => call.startsWith('openSession')))
})

test('[MQTT-3.1.3-8] a refused CONNECT answers CONNACK with the reason and closes', () => {
  const { actor, driver } = start()
  actor.send({ type: 'packets.received', packets: [connect({ clientId: '', clean: false })] })
  assert.is(actor.getSnapshot().value, 'closed')
  assert.ok(driver.calls.includes('refuse:133'), 'client identifier not valid (0x85, v3 return code 2)')
  assert.is(driver.finishedWith?.publishWill, false)
})

test('a refused authentication sends CONNACK with the provider\'s reason and closes', async () => {
  const driver = new RecordingDriver()
  driver.verdict = { allowed: false, reasonCode: 0x86 }
  const { actor } = start(driver)
  actor.send({ type: 'packets.received', packets: [connect()] })
  await waitFor(actor, snapshot => snapshot.status === 'done')
  assert.ok(driver.calls.includes('refuse:134'))
  assert.not.ok(driver.calls.some(call => call.startsWith('openSession')))
})

test('no CONNECT within the connect timeout closes the connection', async () => {
  const { actor, driver } = start()
  await waitFor(actor, snapshot => snapshot.status === 'done', { timeout: 1000 })
  assert.is(driver.finishedWith?.kind, 'connect-timeout')
})

test('[MQTT-3.14.4-3] DISCONNECT ends without the will; a protocol error ends with it', async () => {
  for (const [cmd, publishWill] of [['disconnect', false], ['connack', true]] as const) {
    const driver = new RecordingDriver()
    driver.closeOn = cmd
    const { actor } = start(driver)
    actor.send({ type: 'packets.received', packets: [connect()] })
    await waitFor(actor, snapshot => snapshot.matches('connected'))
    actor.send({ type: 'packets.received', packets: [{ cmd } as Packet, { cmd: 'pingreq' }] })
    await waitFor(actor, snapshot => snapshot.status === 'done')
    assert.is(driver.finishedWith?.publishWill, publishWill, cmd)
    assert.equal(driver.dispatched.map(p => p.cmd), [cmd], 'packets after the closing one are not handled')
    assert.ok(driver.calls.includes('stopKeepAlive'))
  }
})

test('takeover and keep-alive expiry close a connected client with the will', async () => {
  for (const type of ['takeover.requested', 'keepalive.expired'] as const) {
    const { actor, driver } = start()
    actor.send({ type: 'packets.received', packets: [connect()] })
    await waitFor(actor, snapshot => snapshot.matches('connected'))
    actor.send({ type, reason: closeReason(type === 'takeover.requested' ? 'session-taken-over' : 'keepalive-timeout', type) })
    assert.is(actor.getSnapshot().value, 'closed')
    assert.is(driver.finishedWith?.publishWill, true)
  }
})

test.run()
