import { writeFileSync } from 'node:fs'
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
  launch (context: LaunchContext): LaunchCommand
}

/** Troupe from dist/ (the bench script builds it first), with `extraArgs` for a variant such as `--storage level`. */
function troupe (id: string, label: string, extraArgs: readonly string[] = []): BrokerDefinition {
  return {
    id,
    label,
    mqtt5: true,
    peer: false,
    launch: ({ port, tuning, nodeArgs }) => ({
      command: process.execPath,
      args: [
        ...nodeArgs,
        join(REPO_ROOT, 'dist/runtime/cli.js'),
        '--port', String(port),
        '--host', '127.0.0.1',
        // warn, not info: info logs every connect, which would bill the connect-rate scenario for logging.
        '--log-level', 'warn',
        '--max-inflight', String(tuning.maxInflight),
        '--max-queued', String(tuning.maxQueued),
        ...extraArgs
      ]
    })
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

/**
 * Every broker the bench knows, in report column order. A new variant is one more entry,
 * e.g. `troupe('troupe-level', 'Troupe (level)', ['--storage', 'level'])`.
 */
export const BROKERS: readonly BrokerDefinition[] = [
  troupe('troupe', 'Troupe'),
  aedes,
  mosquitto
]
