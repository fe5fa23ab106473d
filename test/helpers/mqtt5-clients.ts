import mqtt, { type IClientOptions, type MqttClient } from 'mqtt'
import type { IConnackPacket, IDisconnectPacket, IPublishPacket, Packet } from 'mqtt-packet'
import * as assert from 'uvu/assert'
import { collect, type Received } from './mqtt-clients.js'
import { RawClient } from './raw-client.js'
import type { TestBroker } from './test-broker.js'

/** MQTT 5 clients for tests: MQTT.js at protocol level 5 and RawClient with a v5 handshake. */

export type ConnectFields = Partial<Extract<Packet, { cmd: 'connect' }>>

/** A RawClient at protocol level 5 after CONNECT and its CONNACK (whatever its reason code). */
export async function rawV5 (broker: TestBroker, fields: ConnectFields = {}): Promise<{ client: RawClient, connack: IConnackPacket }> {
  const client = await RawClient.connect(broker.port, 5)
  const connack = await client.handshake({ protocolId: 'MQTT', protocolVersion: 5, clean: true, clientId: '', keepalive: 60, ...fields })
  return { client, connack }
}

/** A RawClient at level 5 whose CONNECT was accepted (CONNACK 0x00). */
export async function acceptedV5 (broker: TestBroker, fields: ConnectFields = {}): Promise<{ client: RawClient, connack: IConnackPacket }> {
  const opened = await rawV5(broker, fields)
  assert.is(opened.connack.reasonCode, 0, `CONNACK 0x00 for ${fields.clientId ?? 'the client'}`)
  return opened
}

/** Subscribes a RawClient (v5) and checks the SUBACK grants what was asked. */
export async function rawSubscribe (client: RawClient, subscriptions: Extract<Packet, { cmd: 'subscribe' }>['subscriptions'], properties?: Extract<Packet, { cmd: 'subscribe' }>['properties'], messageId = 1): Promise<number[]> {
  client.send({ cmd: 'subscribe', messageId, subscriptions, ...(properties === undefined ? {} : { properties }) })
  const suback = await client.next('suback')
  assert.is(suback.messageId, messageId, 'SUBACK carries the SUBSCRIBE packet id')
  return suback.granted as number[]
}

/**
 * The broker's DISCONNECT to a v5 client: waits for it, checks its reason code (one of
 * `codes`), that it carries no Session Expiry Interval, that nothing follows it, and that the
 * broker then closes the connection.
 */
export async function serverDisconnect (client: RawClient, ...codes: number[]): Promise<IDisconnectPacket> {
  assert.ok(await client.closesWithin(5000), 'the broker closes the connection')
  const index = client.received.findIndex(packet => packet.cmd === 'disconnect')
  const sent = client.received.map(packet => packet.cmd.toUpperCase()).join(', ')
  assert.ok(index >= 0, `a DISCONNECT before the close (the broker sent: ${sent || 'nothing'})`)
  assert.is(index, client.received.length - 1, `nothing after DISCONNECT (the broker sent: ${sent})`)
  const disconnect = client.received.splice(index, 1)[0] as IDisconnectPacket
  assert.ok(codes.includes(disconnect.reasonCode ?? 0), `DISCONNECT reason 0x${(disconnect.reasonCode ?? 0).toString(16)}, expected ${codes.map(code => `0x${code.toString(16)}`).join(' or ')} (${disconnect.properties?.reasonString ?? 'no reason string'})`)
  assert.is(disconnect.properties?.sessionExpiryInterval, undefined, 'a server DISCONNECT carries no Session Expiry Interval')
  return disconnect
}

/** An MQTT.js v5 client with everything it receives collected from before CONNACK. */
export interface OpenedV5 {
  readonly client: MqttClient
  readonly received: Received[]
  readonly connack: IConnackPacket
  /** DISCONNECT packets the broker sent. */
  readonly disconnects: IDisconnectPacket[]
}

const opened = new Set<MqttClient>()

export async function openV5 (broker: TestBroker, options: IClientOptions = {}): Promise<OpenedV5> {
  const client = mqtt.connect(broker.url, { protocolVersion: 5, reconnectPeriod: 0, connectTimeout: 5000, ...options })
  opened.add(client)
  const received = collect(client)
  const disconnects: IDisconnectPacket[] = []
  client.on('disconnect', packet => disconnects.push(packet))
  const connack = await new Promise<IConnackPacket>((resolve, reject) => {
    client.once('connect', resolve)
    client.once('error', reject)
    client.once('close', () => reject(new Error('closed before CONNACK')))
  })
  return { client, received, connack, disconnects }
}

export async function closeV5Clients (): Promise<void> {
  await Promise.all([...opened].map(async client => await client.endAsync(true).catch(() => undefined)))
  opened.clear()
}

/** The PUBLISH packets a RawClient has received so far, taking them off its list. */
export function takePublishes (client: RawClient): IPublishPacket[] {
  const publishes: IPublishPacket[] = []
  for (let index = client.received.length - 1; index >= 0; index--) {
    const packet = client.received[index]!
    if (packet.cmd === 'publish') {
      publishes.unshift(packet)
      client.received.splice(index, 1)
    }
  }
  return publishes
}
