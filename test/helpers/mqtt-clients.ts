import mqtt, { type IClientOptions, type MqttClient } from 'mqtt'
import type { IPublishPacket } from 'mqtt-packet'

/** A received message as a test looks at it. */
export interface Received {
  readonly topic: string
  readonly payload: string
  readonly qos: number
  readonly retain: boolean
  readonly dup: boolean
  readonly packet: IPublishPacket
}

const clients = new Set<MqttClient>()

/** Connects MQTT.js (3.1.1 unless `protocolVersion` says otherwise) and waits for CONNACK. */
export async function connectClient (url: string, options: IClientOptions = {}, beforeConnect?: (client: MqttClient) => void): Promise<MqttClient> {
  if (beforeConnect === undefined) {
    const client = await mqtt.connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5000, ...options })
    clients.add(client)
    return client
  }
  // A resumed session's messages can arrive in the same chunk as CONNACK: listeners must be there first.
  const client = mqtt.connect(url, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5000, ...options })
  clients.add(client)
  beforeConnect(client)
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => { client.off('error', reject); resolve() })
    client.once('error', reject)
  })
  return client
}

/** Collects every message a client receives, in order, from now on. */
export function collect (client: MqttClient): Received[] {
  const received: Received[] = []
  client.on('message', (topic, payload, packet) => {
    received.push({ topic, payload: payload.toString(), qos: packet.qos, retain: packet.retain, dup: packet.dup, packet })
  })
  return received
}

/** Resolves once `condition` holds, polling; rejects with `what` after `timeoutMs`. */
export async function eventually (condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 10))
  }
}

/** Waits `ms`: only to show that something does NOT happen within a reasonable time. */
export async function quietFor (ms: number): Promise<void> {
  await new Promise(resolve => setTimeout(resolve, ms))
}

/** Ends every client this module connected (forcefully), for a test's cleanup. */
export async function closeAllClients (): Promise<void> {
  await Promise.all([...clients].map(async client => await client.endAsync(true).catch(() => undefined)))
  clients.clear()
}
