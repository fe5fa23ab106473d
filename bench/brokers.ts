import { mkdtempSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { LaunchCommand } from './broker-process.js'

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
  /** Set on Troupe run on another store than memory: see StorageVariant. */
  readonly storageVariant?: StorageVariant
  launch (context: LaunchContext): LaunchCommand
}

/**
 * Troupe on a durable store. Such a variant answers "what does durability cost Troupe", not
 * "how does Troupe compare with its peers", so it stays out of the comparison tables: it runs
 * in one scenario only, on the main MQTT version only, in the same alternating rounds as the
 * others, and is reported in a table of its own against the first selected non-peer broker
 * (Troupe on its memory store).
 */
export interface StorageVariant {
  /** Id of the one scenario it runs in. */
  readonly scenario: string
  /** Its name next to "memory" in its table, e.g. "level os". */
  readonly store: string
  /** Least fraction of the memory store's value it is meant to reach; a lower one is marked. */
  readonly target: number | undefined
}

export type StorageVariantBroker = BrokerDefinition & { readonly storageVariant: StorageVariant }

export function isStorageVariant (broker: BrokerDefinition): broker is StorageVariantBroker {
  return broker.storageVariant !== undefined
}

/** Issue 4: on LevelDB with `os` durability Troupe should keep at least half its memory store's QoS 1 throughput. */
const LEVEL_OS_TARGET = 0.5

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
        '--monitor-port', '0',
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
    storageVariant: { scenario: 'qos1', store, target }
  }
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
  troupeOnLevel('fsync', undefined)
]
