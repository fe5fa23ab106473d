import { mkdtempSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { LaunchCommand } from './broker-process.js'
import { DashboardViewer } from './load/dashboard-viewer.js'

/** The repository root: brokers run from there so that `tsx` and `dist/` resolve. */
export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url))

/**
 * Per-scenario session limits, applied to every broker that has such a setting, so that no
 * broker drops or stalls in a scenario merely because its defaults are smaller than another's.
 */
export interface BrokerTuning {
  /** Outbound QoS 1/2 messages per session sent and not yet acknowledged. */
  readonly maxInflight: number
  /** Messages per session waiting behind a full inflight window. */
  readonly maxQueued: number
  /**
   * TCP_NODELAY where it is a setting (Mosquitto's set_tcp_nodelay; Troupe always sets it).
   * Off as shipped; on where Nagle's algorithm meets the load's delayed ACKs in a
   * request/response exchange and the broker would idle waiting for them.
   */
  readonly tcpNoDelay: boolean
}

/** What a launch may need besides its port and tuning. */
export interface LaunchContext {
  readonly port: number
  /** A free port for Troupe's monitor, for a variant that watches it. */
  readonly monitorPort: number
  readonly tuning: BrokerTuning
  /** A scratch directory for config files, removed when the bench ends. */
  readonly workDir: string
  /** Extra node flags for Node-based brokers, e.g. `--cpu-prof` to profile one. */
  readonly nodeArgs: readonly string[]
}

/** One broker (or one configuration of a broker) the bench can run. */
export interface BrokerDefinition {
  /** Name used by `--brokers` and in progress lines. */
  readonly id: string
  /** Column header in the report. */
  readonly label: string
  /** False for brokers that speak MQTT 3.1.1 only: they are skipped under `--mqtt 5`. */
  readonly mqtt5: boolean
  /** Peers are what the first selected non-peer broker is compared with in the ratio columns. */
  readonly peer: boolean
  /** Set on Troupe run in another configuration (another store, the monitor open): see ConfigVariant. */
  readonly variant?: ConfigVariant
  launch (context: LaunchContext): LaunchCommand
  /** Something that runs beside the broker during each of its runs, started once it listens (a monitor page open). */
  readonly companion?: (context: LaunchContext) => Promise<Companion>
}

export interface Companion {
  /** What it did, for the progress line. */
  stop (): Promise<string>
}

/**
 * Troupe in another configuration than the default. Such a variant answers "what does this
 * cost Troupe" (durability, an open monitor), not "how does Troupe compare with its peers", so
 * it stays out of the comparison tables: it runs in its own scenarios only, on the main MQTT
 * version only, in the same alternating rounds as the others, and is reported in a table of
 * its group against the first selected non-peer broker (Troupe as configured by default).
 */
export interface ConfigVariant {
  /** Ids of the scenarios it runs in. */
  readonly scenarios: readonly string[]
  /** Its name in its table, e.g. "level os". */
  readonly name: string
  readonly group: VariantGroup
  /** Least fraction of the baseline's value it is meant to reach; a lower one is marked. */
  readonly target: number | undefined
}

/** Variants reported in one table. */
export interface VariantGroup {
  readonly id: string
  /** What Troupe's default configuration is called in the table, e.g. "memory". */
  readonly baseline: string
  /** The sentence above the table. */
  readonly heading: string
}

export type VariantBroker = BrokerDefinition & { readonly variant: ConfigVariant }

export function isVariant (broker: BrokerDefinition): broker is VariantBroker {
  return broker.variant !== undefined
}

const STORAGE: VariantGroup = { id: 'storage', baseline: 'memory', heading: 'on LevelDB: Troupe with --storage level (a new database per run) against Troupe on its memory store' }
const MONITOR: VariantGroup = {
  id: 'monitor',
  baseline: 'monitor idle',
  heading: 'with the monitor open: Troupe while a client follows its dashboard (the live stream, and the page reloaded every 2 s) against Troupe with its monitor idle'
}

/** Issue 4: on LevelDB with `os` durability Troupe should keep at least half its memory store's QoS 1 throughput. */
const LEVEL_OS_TARGET = 0.5
/** Issue 6: with the monitor open on the dashboard, throughput should drop by less than 5%. */
const MONITOR_OPEN_TARGET = 0.95

/** Troupe from dist/ (the bench script builds it first), with `extraArgs` for a variant such as `--storage level`. */
function troupe (id: string, label: string, extraArgs: (context: LaunchContext) => readonly string[] = () => []): BrokerDefinition {
  return {
    id,
    label,
    mqtt5: true,
    peer: false,
    launch: (context) => ({
      command: process.execPath,
      args: [
        ...context.nodeArgs,
        join(REPO_ROOT, 'dist/runtime/cli.js'),
        '--port', String(context.port),
        '--host', '127.0.0.1',
        // warn, not info: info logs every connect, which would bill the connect-rate scenario for logging.
        '--log-level', 'warn',
        // The monitor runs, as by default, on a free port: 8080 may be taken.
        '--monitor-port', String(context.monitorPort),
        '--max-inflight', String(context.tuning.maxInflight),
        '--max-queued', String(context.tuning.maxQueued),
        ...extraArgs(context)
      ]
    })
  }
}

/**
 * Troupe on LevelDB with `durability` os or fsync, measured in `qos1`, the scenario whose
 * subscriber holds a persistent session and so has every message journaled.
 */
function troupeOnLevel (durability: 'os' | 'fsync', target: number | undefined): BrokerDefinition {
  const store = `level ${durability}`
  return {
    ...troupe(`troupe-level-${durability}`, `Troupe ${store}`, ({ workDir }) => [
      '--storage', 'level',
      '--durability', durability,
      // A new, empty database per launch: no run inherits another's sessions, or the
      // compaction debt of another's writes.
      '--data-dir', mkdtempSync(join(workDir, `level-${durability}-`))
    ]),
    variant: { scenarios: ['qos1'], name: store, group: STORAGE, target }
  }
}

/** Troupe with a client following its monitor's dashboard, in the throughput scenarios. */
const troupeMonitorOpen: BrokerDefinition = {
  ...troupe('troupe-monitor', 'Troupe monitor open'),
  variant: { scenarios: ['fan-in', 'fan-out', 'qos1'], name: 'monitor open', group: MONITOR, target: MONITOR_OPEN_TARGET },
  companion: async ({ monitorPort }) => await DashboardViewer.open(monitorPort)
}

const aedes: BrokerDefinition = {
  id: 'aedes',
  label: 'Aedes',
  mqtt5: false,
  peer: true,
  // Aedes has no per-session queue or inflight limit to raise, so tuning does not apply; its
  // sockets keep Node's default (Nagle on): TCP_NODELAY cost it 10-15 % in QoS 0 and QoS 1
  // throughput here and did not clearly change its latency.
  launch: ({ port, nodeArgs }) => ({
    command: process.execPath,
    args: [...nodeArgs, '--import', 'tsx', join(REPO_ROOT, 'bench/aedes-server.ts'), String(port)]
  })
}

const mosquitto: BrokerDefinition = {
  id: 'mosquitto',
  label: 'Mosquitto',
  mqtt5: true,
  peer: true,
  launch: ({ port, tuning, workDir }) => {
    const config = join(workDir, `mosquitto-${port}.conf`)
    writeFileSync(config, [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      'persistence false',
      `max_inflight_messages ${tuning.maxInflight}`,
      `max_queued_messages ${tuning.maxQueued}`,
      // Errors and warnings only: the default also logs every connect and disconnect.
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      'connection_messages false',
      `set_tcp_nodelay ${String(tuning.tcpNoDelay)}`,
      ''
    ].join('\n'))
    return { command: '/usr/sbin/mosquitto', args: ['-c', config] }
  }
}

/** Every broker the bench knows, in run and report column order. A new one is one more entry. */
export const BROKERS: readonly BrokerDefinition[] = [
  troupe('troupe', 'Troupe'),
  aedes,
  mosquitto,
  troupeOnLevel('os', LEVEL_OS_TARGET),
  troupeOnLevel('fsync', undefined),
  troupeMonitorOpen
]
