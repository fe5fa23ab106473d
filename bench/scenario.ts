import type { BrokerProcess } from './broker-process.js'
import type { BrokerTuning } from './brokers.js'
import type { MqttVersion } from './load/packets.js'
import type { BenchOptions } from './options.js'

/** One number a scenario reports: a row of the table. */
export interface Metric {
  /** Key in ScenarioOutcome.values. */
  readonly key: string
  /** Row label in the table. */
  readonly label: string
  readonly unit: string
  /** Whether a larger value is better: tells the reader which way a ratio should go. */
  readonly better: 'higher' | 'lower'
  readonly decimals: number
}

export interface ScenarioContext {
  /** The freshly started broker, already listening, on BrokerProcess.port. */
  readonly broker: BrokerProcess
  readonly options: BenchOptions
  /** MQTT version of every client of this run: one run of a round may differ from the next. */
  readonly version: MqttVersion
  /** Prefix that keeps client ids of this run apart from any other's. */
  readonly runId: string
}

export interface ScenarioOutcome {
  /** One value per metric key. */
  readonly values: Readonly<Record<string, number>>
  /** What the run saw besides its metrics (CPU use, losses), for the progress log. */
  readonly detail: string
}

/**
 * A benchmark scenario: given a fresh broker it runs its load and reports its metrics. A new
 * scenario is a new file exporting one of these, plus an entry in scenarios/index.ts.
 */
export interface Scenario {
  /** Name used by `--only`. */
  readonly id: string
  readonly title: string
  /** Limits the brokers start with for this scenario. */
  readonly tuning: BrokerTuning
  readonly metrics: readonly Metric[]
  run (context: ScenarioContext): Promise<ScenarioOutcome>
}
