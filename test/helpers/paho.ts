import { fileURLToPath } from 'node:url'
import * as assert from 'uvu/assert'
import { spawnTracked, type TrackedProcess } from './processes.js'

/**
 * Eclipse Paho's Python client (paho-mqtt 1.6.1 from Debian's python3-paho-mqtt, importable
 * only by /usr/bin/python3) at MQTT 3.1, 3.1.1 or 5. test/fixtures/paho_client.py is one Paho
 * client per process, driven by JSON commands on stdin and reporting JSON events on stdout;
 * over plain TCP, or over TLS (Python's ssl module through Paho's tls_set). Each process is
 * tracked: an after-hook's `killAll()` ends those a test left running.
 */

const PYTHON = '/usr/bin/python3'
const FIXTURE = fileURLToPath(new URL('../fixtures/paho_client.py', import.meta.url))
const TIMEOUT_MS = 10_000

export type PahoProtocol = '3.1' | '3.1.1' | '5'

/** MQTT 5 properties keyed by Paho's names (UserProperty as ordered [name, value] pairs, CorrelationData as text). */
export type PahoProperties = Record<string, unknown>

export interface PahoEvent {
  readonly event: string
  readonly [field: string]: unknown
}

export interface PahoMessage {
  readonly topic: string
  readonly payload: string
  readonly size: number
  readonly qos: number
  readonly retain: boolean
  readonly dup: boolean
  /** Only at MQTT 5, so that a 3.1 or 3.1.1 message holds nothing its packet could not. */
  readonly properties?: PahoProperties
}

/** Where a Paho client connects: a plain TCP port, or a TLS one with what Paho trusts and presents there. */
export interface PahoEndpoint {
  readonly port: number
  /** Connect over TLS; without `cafile` Paho trusts only the system's CA certificates. */
  readonly tls?: { readonly cafile?: string, readonly cert?: string, readonly key?: string }
}

export interface PahoWill {
  readonly topic: string
  readonly payload: string
  readonly qos?: number
  readonly retain?: boolean
  /** MQTT 5 only. */
  readonly properties?: PahoProperties
}

export interface PahoConnectOptions {
  /** 3.1.1 unless said. */
  readonly protocol?: PahoProtocol
  readonly clientId?: string
  /** Clean Session at 3.1 and 3.1.1, Clean Start at 5; true unless said. */
  readonly clean?: boolean
  /** MQTT 5 only: the CONNECT properties. */
  readonly properties?: PahoProperties
  readonly will?: PahoWill
}

export interface PahoConnack {
  readonly rc: number
  readonly sessionPresent: boolean
  /** Only at MQTT 5. */
  readonly properties?: PahoProperties
}

/** MQTT 5 only, every one of them. */
export interface PahoSubscribeOptions {
  readonly noLocal?: boolean
  readonly retainAsPublished?: boolean
  readonly retainHandling?: 0 | 1 | 2
  readonly properties?: PahoProperties
}

export interface PahoPublishOptions {
  readonly retain?: boolean
  /** MQTT 5 only. */
  readonly properties?: PahoProperties
}

function tlsArguments (tls: PahoEndpoint['tls']): string[] {
  if (tls === undefined) return []
  return [
    '--tls',
    ...(tls.cafile === undefined ? [] : ['--cafile', tls.cafile]),
    ...(tls.cert === undefined ? [] : ['--cert', tls.cert]),
    ...(tls.key === undefined ? [] : ['--key', tls.key])
  ]
}

/**
 * The fixture's connect command. Fields are sent only when set: the fixture refuses an MQTT 5
 * field at 3.1 or 3.1.1 (and Clean Session at 5) rather than drop it unseen.
 */
function connectCommand (options: PahoConnectOptions): Record<string, unknown> {
  const protocol = options.protocol ?? '3.1.1'
  return {
    op: 'connect',
    protocol,
    client_id: options.clientId ?? '',
    [protocol === '5' ? 'clean_start' : 'clean_session']: options.clean ?? true,
    ...(options.properties === undefined ? {} : { properties: options.properties }),
    ...(options.will === undefined ? {} : { will: options.will })
  }
}

/** The test's side of one paho_client.py process. */
export class Paho {
  private constructor (readonly process: TrackedProcess) {}

  /** Starts a client process, not yet connected. */
  static async start (endpoint: PahoEndpoint): Promise<Paho> {
    const child = spawnTracked(PYTHON, ['-u', FIXTURE, '127.0.0.1', String(endpoint.port), ...tlsArguments(endpoint.tls)], { stdin: true, env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } })
    const paho = new Paho(child)
    await paho.next(event => event.event === 'ready', 0, 'ready')
    return paho
  }

  /** Starts a client and connects it; resolves once the broker has accepted it. */
  static async connect (endpoint: PahoEndpoint, options: PahoConnectOptions = {}): Promise<Paho> {
    const paho = await Paho.start(endpoint)
    await paho.connect(options)
    return paho
  }

  get events (): PahoEvent[] {
    return this.process.lines.map(line => JSON.parse(line) as PahoEvent)
  }

  get messages (): PahoMessage[] {
    return this.events.filter(event => event.event === 'message') as unknown as PahoMessage[]
  }

  /** CONNECT (a new Paho client each time); resolves with the CONNACK, which must accept it. */
  async connect (options: PahoConnectOptions = {}): Promise<PahoConnack> {
    const from = this.send(connectCommand(options))
    const connack = await this.next(event => event.event === 'connack', from, 'CONNACK')
    assert.is(connack.rc, 0, 'connection accepted')
    return {
      rc: Number(connack.rc),
      sessionPresent: connack.session_present === true,
      ...(connack.properties === undefined ? {} : { properties: connack.properties as PahoProperties })
    }
  }

  /**
   * A CONNECT that must not get through: resolves with what Paho reported instead of a
   * CONNACK (an error from connect(), such as a failed TLS handshake, or a lost connection).
   */
  async connectRefused (options: PahoConnectOptions = {}): Promise<PahoEvent> {
    const from = this.send(connectCommand(options))
    const outcome = await this.process.waitFor(() => this.events.slice(from).find(event => ['connack', 'error', 'disconnected'].includes(event.event)), 'the refusal', TIMEOUT_MS)
    assert.is.not(outcome.event, 'connack', `no CONNACK expected, got ${JSON.stringify(outcome)}`)
    return outcome
  }

  /** SUBSCRIBE and its SUBACK; resolves with its codes (the granted QoS, or a failure code). */
  async subscribe (topic: string, qos: number, options: PahoSubscribeOptions = {}): Promise<number[]> {
    const mid = await this.sent({
      op: 'subscribe',
      topic,
      qos,
      ...(options.noLocal === undefined ? {} : { no_local: options.noLocal }),
      ...(options.retainAsPublished === undefined ? {} : { retain_as_published: options.retainAsPublished }),
      ...(options.retainHandling === undefined ? {} : { retain_handling: options.retainHandling }),
      ...(options.properties === undefined ? {} : { properties: options.properties })
    })
    const suback = await this.next(event => event.event === 'suback' && event.mid === mid.mid, mid.from, 'SUBACK')
    return suback.reason_codes as number[]
  }

  async unsubscribe (topic: string): Promise<void> {
    const mid = await this.sent({ op: 'unsubscribe', topic })
    await this.next(event => event.event === 'unsuback' && event.mid === mid.mid, mid.from, 'UNSUBACK')
  }

  /** PUBLISH, resolved once Paho reports it done: sent (QoS 0), PUBACK (1) or PUBCOMP (2). */
  async publish (topic: string, payload: string, qos: number, options: PahoPublishOptions = {}): Promise<void> {
    const mid = await this.sent({
      op: 'publish',
      topic,
      payload,
      qos,
      retain: options.retain ?? false,
      ...(options.properties === undefined ? {} : { properties: options.properties })
    })
    await this.next(event => event.event === 'published' && event.mid === mid.mid, mid.from, `completion of PUBLISH ${topic}`)
  }

  /** DISCONNECT, with `reasonCode` at MQTT 5 (0 unless said); resolves once Paho reports the connection closed. */
  async disconnect (reasonCode?: number): Promise<void> {
    const from = this.send({ op: 'disconnect', ...(reasonCode === undefined ? {} : { reason_code: reasonCode }) })
    await this.next(event => event.event === 'disconnected', from, 'on_disconnect')
  }

  /** Closes the socket under Paho: the broker sees the network connection lost, no DISCONNECT. */
  async drop (): Promise<void> {
    const from = this.send({ op: 'drop' })
    await this.next(event => event.event === 'dropped', from, 'the dropped socket')
  }

  /** The first message received on `topic`, waiting for it if need be. */
  async message (topic: string): Promise<PahoMessage> {
    return await this.process.waitFor(() => this.messages.find(message => message.topic === topic), `a message on ${topic}`, TIMEOUT_MS)
  }

  /** The first time Paho reported the connection closed, by either side. */
  async disconnected (): Promise<PahoEvent> {
    return await this.next(event => event.event === 'disconnected', 0, 'on_disconnect')
  }

  async exit (): Promise<void> {
    this.send({ op: 'exit' })
    const exit = await this.process.waitForExit(TIMEOUT_MS)
    assert.is(exit.code, 0, `paho_client.py exited with ${exit.code ?? exit.signal}\n${this.process.output()}`)
  }

  /** Writes a command; returns how many events there were before it, where its answers start. */
  private send (command: Record<string, unknown>): number {
    const from = this.events.length
    this.process.write(JSON.stringify(command))
    return from
  }

  private async sent (command: Record<string, unknown>): Promise<{ mid: unknown, from: number }> {
    const from = this.send(command)
    const sent = await this.next(event => event.event === 'sent' && event.op === command.op, from, `${String(command.op)} to be sent`)
    assert.is(sent.rc, 0, `${String(command.op)} queued by paho`)
    return { mid: sent.mid, from }
  }

  /** The first event after `from` matching `predicate`; fails at once on an error event. */
  private async next (predicate: (event: PahoEvent) => boolean, from: number, what: string): Promise<PahoEvent> {
    return await this.process.waitFor(() => {
      const events = this.events.slice(from)
      const error = events.find(event => event.event === 'error')
      if (error !== undefined) throw new Error(`paho_client.py: ${String(error.message)}\n${this.process.output()}`)
      return events.find(predicate)
    }, what, TIMEOUT_MS)
  }
}
