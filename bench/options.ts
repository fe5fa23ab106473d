import { parseArgs } from 'node:util'
import type { MqttVersion } from './load/packets.js'

/** Everything a run can be told on the command line; scenarios read their sizes from here. */
export interface BenchOptions {
  readonly rounds: number
  /** Warm-up before each measured window, in seconds. */
  readonly warmupSeconds: number
  /** Measured window of each throughput and latency run, in seconds. */
  readonly seconds: number
  /** Scenario ids to run, in table order; all when not given. */
  readonly only: readonly string[] | undefined
  /** Broker ids to run, in table order; all when not given. */
  readonly brokers: readonly string[] | undefined
  /**
   * MQTT versions of the load clients, ascending. With 3.1.1 the main table runs on 3.1.1; with
   * both, the scenarios in MQTT5_COMPARED also run on 5.0 for the version table.
   */
  readonly mqtt: readonly MqttVersion[]
  readonly payloadBytes: number
  /** QoS 0 messages in flight (sent, not yet read by every subscriber) across all publishers; 0 floods without a cap. */
  readonly qos0Window: number
  readonly publishers: number
  readonly subscribers: number
  readonly qos1Publishers: number
  readonly qos1Window: number
  readonly latencyRate: number
  /**
   * Warm-up of the latency scenario, in seconds: its percentiles are of the steady state, not
   * of a Node broker's first seconds (JIT compilation, the young generation growing).
   */
  readonly latencyWarmupSeconds: number
  readonly connections: number
  readonly connectParallel: number
  readonly idleConnections: number
  /** Extra node flags for Node-based brokers, e.g. `--cpu-prof`. */
  readonly nodeArgs: readonly string[]
  /** Keep the load process's event loop spinning instead of sleeping in epoll_wait. */
  readonly spin: boolean
}

interface Flag {
  readonly key: keyof BenchOptions
  readonly hint: string
  readonly text: string
  readonly defaultValue: string | undefined
}

const FLAGS: Record<string, Flag> = {
  rounds: { key: 'rounds', hint: 'N', text: 'rounds; each round runs every broker once per scenario, alternating', defaultValue: '3' },
  warmup: { key: 'warmupSeconds', hint: 'SECONDS', text: 'warm-up before each measured window', defaultValue: '1' },
  seconds: { key: 'seconds', hint: 'SECONDS', text: 'measured window of each throughput and latency run', defaultValue: '4' },
  only: { key: 'only', hint: 'LIST', text: 'scenarios to run, comma-separated (fan-in,fan-out,qos1,latency,connect,memory)', defaultValue: undefined },
  brokers: { key: 'brokers', hint: 'LIST', text: 'brokers to run, comma-separated (troupe,aedes,mosquitto,troupe-level-os,troupe-level-fsync,troupe-monitor); the troupe-level-* ones run in qos1 only, troupe-monitor (a client following the monitor\'s dashboard) in fan-in, fan-out and qos1', defaultValue: undefined },
  mqtt: { key: 'mqtt', hint: 'LIST', text: 'MQTT versions of the load clients, 4 (3.1.1) and/or 5 (5.0). 4,5: every scenario on 3.1.1, and fan-in, fan-out and qos1 also on 5.0 for the 5.0-against-3.1.1 table; 4: 3.1.1 only; 5: every scenario on 5.0 (brokers without 5.0 are skipped)', defaultValue: '4,5' },
  payload: { key: 'payloadBytes', hint: 'BYTES', text: 'payload size of every PUBLISH (at least 8: latency stores a timestamp)', defaultValue: '16' },
  'qos0-window': { key: 'qos0Window', hint: 'N', text: 'QoS 0 scenarios: messages in flight (sent, not yet read by every subscriber) across all publishers; 0 floods with no cap', defaultValue: '2000' },
  publishers: { key: 'publishers', hint: 'N', text: 'fan-in publishers', defaultValue: '50' },
  subscribers: { key: 'subscribers', hint: 'N', text: 'fan-out subscribers', defaultValue: '50' },
  'qos1-publishers': { key: 'qos1Publishers', hint: 'N', text: 'QoS 1 publishers', defaultValue: '10' },
  'qos1-window': { key: 'qos1Window', hint: 'N', text: 'unacknowledged QoS 1 PUBLISHes each publisher keeps in flight', defaultValue: '100' },
  rate: { key: 'latencyRate', hint: 'MSGS', text: 'messages per second of the latency scenario', defaultValue: '5000' },
  'latency-warmup': { key: 'latencyWarmupSeconds', hint: 'SECONDS', text: 'warm-up of the latency scenario at its rate, so that p50/p99 are of the steady state', defaultValue: '5' },
  connections: { key: 'connections', hint: 'N', text: 'connections the connect scenario opens and closes for each of its two measurements (after start, steady)', defaultValue: '2000' },
  parallel: { key: 'connectParallel', hint: 'N', text: 'connections the connect scenario has in progress at once', defaultValue: '32' },
  idle: { key: 'idleConnections', hint: 'N', text: 'idle connections of the memory scenario', defaultValue: '10000' },
  spin: { key: 'spin', hint: 'yes|no', text: 'keep the load process polling instead of sleeping, so brokers do not pay for waking an idle core', defaultValue: 'no' },
  'node-args': { key: 'nodeArgs', hint: 'ARGS', text: 'extra node flags for Node-based brokers, space-separated (e.g. --node-args=--cpu-prof)', defaultValue: '' }
}

export function helpText (): string {
  const rows: Array<readonly [string, string]> = Object.entries(FLAGS).map(([name, flag]) => [
    `  --${name} ${flag.hint}`,
    flag.defaultValue === undefined || flag.defaultValue === '' ? flag.text : `${flag.text} (default ${flag.defaultValue})`
  ] as const)
  rows.push(['  -h, --help', 'show this help'])
  const width = Math.max(...rows.map(([flag]) => flag.length)) + 2
  return [
    'Usage: npm run bench -- [options]',
    '',
    'Runs Troupe, Aedes and Mosquitto side by side (broker on core 0, load on core 1) and',
    'prints the median of each scenario per broker as a Markdown table on stdout, then (with',
    '--mqtt 4,5) fan-in, fan-out and qos1 on MQTT 5.0 against 3.1.1 for each broker with 5.0.',
    '',
    'Troupe also runs qos1 on LevelDB (troupe-level-os: --storage level --durability os;',
    'troupe-level-fsync: --durability fsync; a new database per run), in the same rounds on the',
    'main MQTT version, reported apart: "QoS 1 end to end on LevelDB" against Troupe on its',
    'memory store, with a level os ratio below the 0.50 target (issue 4) marked. The qos1',
    'subscriber holds a persistent session on every broker, so that its messages are journaled.',
    '',
    'Options:',
    ...rows.map(([flag, text]) => flag.padEnd(width) + text)
  ].join('\n')
}

/** Parses argv; throws with a readable message on a bad value. Returns undefined for --help. */
export function parseOptions (argv: readonly string[]): BenchOptions | undefined {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      ...Object.fromEntries(Object.keys(FLAGS).map(name => [name, { type: 'string' as const }])),
      help: { type: 'boolean', short: 'h' }
    }
  })
  const given = values as Record<string, string | boolean | undefined>
  if (given.help === true) return undefined
  const text = (name: string): string | undefined => {
    const value = given[name]
    return typeof value === 'string' ? value : FLAGS[name]!.defaultValue
  }
  const number = (name: string, min: number): number => {
    const value = Number(text(name))
    if (!Number.isFinite(value) || value < min) throw new Error(`--${name} must be a number of at least ${min}, got "${String(text(name))}"`)
    return value
  }
  const integer = (name: string, min: number): number => {
    const value = number(name, min)
    if (!Number.isInteger(value)) throw new Error(`--${name} must be a whole number, got "${String(text(name))}"`)
    return value
  }
  const yesNo = (name: string): boolean => {
    const value = text(name)
    if (value !== 'yes' && value !== 'no') throw new Error(`--${name} must be yes or no, got "${String(value)}"`)
    return value === 'yes'
  }
  const list = (name: string): string[] | undefined => text(name)?.split(',').map(item => item.trim()).filter(item => item !== '')
  const mqtt = mqttVersions(text('mqtt'))
  return {
    rounds: integer('rounds', 1),
    warmupSeconds: number('warmup', 0),
    seconds: number('seconds', 0.1),
    only: list('only'),
    brokers: list('brokers'),
    mqtt,
    payloadBytes: integer('payload', 8),
    qos0Window: integer('qos0-window', 0),
    publishers: integer('publishers', 1),
    subscribers: integer('subscribers', 1),
    qos1Publishers: integer('qos1-publishers', 1),
    qos1Window: integer('qos1-window', 1),
    latencyRate: integer('rate', 1),
    latencyWarmupSeconds: number('latency-warmup', 0),
    connections: integer('connections', 1),
    connectParallel: integer('parallel', 1),
    idleConnections: integer('idle', 1),
    nodeArgs: (text('node-args') ?? '').split(' ').filter(arg => arg !== ''),
    spin: yesNo('spin')
  }
}

/** `--mqtt`: a comma-separated list of 4 and 5, returned without repeats and ascending. */
function mqttVersions (value: string | undefined): MqttVersion[] {
  const items = (value ?? '').split(',').map(item => item.trim()).filter(item => item !== '')
  if (items.length === 0 || items.some(item => item !== '4' && item !== '5')) {
    throw new Error(`--mqtt must be 4 (3.1.1), 5 or 4,5, got "${String(value)}"`)
  }
  return ([4, 5] as const).filter(version => items.includes(String(version)))
}
