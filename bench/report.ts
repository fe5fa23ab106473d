import type { BrokerDefinition, VariantBroker } from './brokers.js'
import type { MqttVersion } from './load/packets.js'
import type { Metric, Scenario } from './scenario.js'

/**
 * How much slower than 3.1.1 Troupe may be on MQTT 5.0 in the same scenario (issue 3); a
 * larger cost is marked in the version table.
 */
const MQTT5_BUDGET = 0.15

/** One broker's outcome in one round of one scenario; `values` is undefined when the run failed. */
export interface Measurement {
  readonly scenario: Scenario
  readonly broker: BrokerDefinition
  readonly version: MqttVersion
  readonly round: number
  readonly values: Readonly<Record<string, number>> | undefined
}

export function median (values: readonly number[]): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const middle = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

function format (value: number, decimals: number): string {
  if (!Number.isFinite(value)) return '–'
  return value.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals })
}

export function versionName (version: MqttVersion): string {
  return version === 4 ? '3.1.1' : '5.0'
}

function row (cells: readonly string[]): string {
  return `| ${cells.join(' | ')} |`
}

/** The values of `metric` that `broker` reached on `version`, one per successful round. */
function valuesOf (measurements: readonly Measurement[], scenario: Scenario, broker: BrokerDefinition, version: MqttVersion, metric: Metric): number[] {
  return measurements
    .filter(m => m.scenario === scenario && m.broker === broker && m.version === version && m.values !== undefined)
    .map(m => m.values![metric.key]!)
    .filter(value => Number.isFinite(value))
}

/**
 * The summary table, all on `version`: the median of the rounds per broker, and the first
 * non-peer broker (Troupe) divided by each peer. A ratio above 1 is better for rates, below 1
 * for ms and KB.
 */
export function summaryTable (scenarios: readonly Scenario[], brokers: readonly BrokerDefinition[], measurements: readonly Measurement[], version: MqttVersion): string {
  const subject = brokers.find(broker => !broker.peer)
  const peers = subject === undefined ? [] : brokers.filter(broker => broker.peer)
  const header = ['Scenario', 'Unit', ...brokers.map(broker => broker.label), ...peers.map(peer => `${subject!.label}/${peer.label}`)]
  const lines = [row(header), row(header.map((_, i) => i < 2 ? '---' : '---:'))]
  for (const scenario of scenarios) {
    for (const metric of scenario.metrics) {
      const medians = new Map(brokers.map(broker => [broker, median(valuesOf(measurements, scenario, broker, version, metric))]))
      const ratios = peers.map(peer => {
        const ratio = medians.get(subject!)! / medians.get(peer)!
        return Number.isFinite(ratio) ? ratio.toFixed(2) : '–'
      })
      lines.push(row([
        metric.label,
        `${metric.unit} (${metric.better} is better)`,
        ...brokers.map(broker => format(medians.get(broker)!, metric.decimals)),
        ...ratios
      ]))
    }
  }
  return lines.join('\n')
}

/**
 * Per scenario and broker with MQTT 5.0: the median of the rounds on 3.1.1 and on 5.0, and
 * 5.0/3.1.1. Where a non-peer broker (Troupe) loses more than MQTT5_BUDGET on 5.0, its ratio
 * says so; the peers are there to tell a cost of the protocol from a cost of Troupe.
 */
export function versionTable (scenarios: readonly Scenario[], brokers: readonly BrokerDefinition[], measurements: readonly Measurement[]): string {
  const header = ['Scenario', 'Unit', ...brokers.flatMap(broker => [`${broker.label} 3.1.1`, `${broker.label} 5.0`, `${broker.label} 5.0/3.1.1`])]
  const lines = [row(header), row(header.map((_, i) => i < 2 ? '---' : '---:'))]
  for (const scenario of scenarios) {
    for (const metric of scenario.metrics) {
      const cells = brokers.flatMap(broker => {
        const v3 = median(valuesOf(measurements, scenario, broker, 4, metric))
        const v5 = median(valuesOf(measurements, scenario, broker, 5, metric))
        return [format(v3, metric.decimals), format(v5, metric.decimals), versionRatio(v5 / v3, metric, broker.peer)]
      })
      lines.push(row([metric.label, `${metric.unit} (${metric.better} is better)`, ...cells]))
    }
  }
  return lines.join('\n')
}

function versionRatio (ratio: number, metric: Metric, peer: boolean): string {
  if (!Number.isFinite(ratio)) return '–'
  // A rate may drop by the budget, a time or a size grow by it.
  const cost = metric.better === 'higher' ? 1 - ratio : ratio - 1
  if (peer || cost <= MQTT5_BUDGET) return ratio.toFixed(2)
  return `**${ratio.toFixed(2)} (over the ${Math.round(MQTT5_BUDGET * 100)}% budget)**`
}

/**
 * Troupe's variants of one group against Troupe as configured by default (`base`, the first
 * selected non-peer broker), all on `version`: per scenario a variant runs in, the median of
 * the rounds of each, and variant/base. A ratio below the variant's target says so, as the
 * version table marks a cost over its budget; a cell is "–" where a variant does not run in
 * that scenario.
 */
export function variantTable (scenarios: readonly Scenario[], base: BrokerDefinition | undefined, variants: readonly VariantBroker[], measurements: readonly Measurement[], version: MqttVersion): string {
  const baseline = variants[0]?.variant.group.baseline ?? 'default'
  const header = ['Scenario', 'Unit', `${base?.label ?? 'Troupe'} ${baseline}`, ...variants.flatMap(variant => [variant.variant.name, `${variant.variant.name}/${baseline}`])]
  const lines = [row(header), row(header.map((_, i) => i < 2 ? '---' : '---:'))]
  for (const scenario of scenarios.filter(scenario => variants.some(variant => variant.variant.scenarios.includes(scenario.id)))) {
    for (const metric of scenario.metrics) {
      const baseValue = base === undefined ? Number.NaN : median(valuesOf(measurements, scenario, base, version, metric))
      const cells = variants.flatMap(variant => {
        if (!variant.variant.scenarios.includes(scenario.id)) return ['–', '–']
        const value = median(valuesOf(measurements, scenario, variant, version, metric))
        return [format(value, metric.decimals), variantRatio(value / baseValue, metric, variant.variant.target)]
      })
      lines.push(row([metric.label, `${metric.unit} (${metric.better} is better)`, format(baseValue, metric.decimals), ...cells]))
    }
  }
  return lines.join('\n')
}

function variantRatio (ratio: number, metric: Metric, target: number | undefined): string {
  if (!Number.isFinite(ratio)) return '–'
  // A target is a least fraction of the baseline's rate: times and sizes have none.
  if (target === undefined || metric.better !== 'higher' || ratio >= target) return ratio.toFixed(2)
  return `**${ratio.toFixed(2)} (below the ${target.toFixed(2)} target)**`
}

/**
 * Every round's value, to show the spread behind each median, one row per broker and MQTT
 * version it ran on; "failed" marks a run that threw.
 */
export function roundsTable (scenarios: readonly Scenario[], brokers: readonly BrokerDefinition[], measurements: readonly Measurement[], rounds: number): string {
  const header = ['Scenario', 'Broker', 'MQTT', ...Array.from({ length: rounds }, (_, i) => `Round ${i + 1}`)]
  const lines = [row(header), row(header.map((_, i) => i < 3 ? '---' : '---:'))]
  for (const scenario of scenarios) {
    for (const metric of scenario.metrics) {
      for (const broker of brokers) {
        for (const version of [4, 5] as const) {
          const runs = measurements.filter(m => m.scenario === scenario && m.broker === broker && m.version === version)
          if (runs.length === 0) continue
          const cells = Array.from({ length: rounds }, (_, round) => {
            const found = runs.find(m => m.round === round)
            if (found === undefined) return '–'
            return found.values === undefined ? 'failed' : format(found.values[metric.key]!, metric.decimals)
          })
          lines.push(row([`${metric.label} (${metric.unit})`, broker.label, versionName(version), ...cells]))
        }
      }
    }
  }
  return lines.join('\n')
}
