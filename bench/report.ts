import type { BrokerDefinition } from './brokers.js'
import type { Metric, Scenario } from './scenario.js'

/** One broker's outcome in one round of one scenario; `values` is undefined when the run failed. */
export interface Measurement {
  readonly scenario: Scenario
  readonly broker: BrokerDefinition
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

function row (cells: readonly string[]): string {
  return `| ${cells.join(' | ')} |`
}

/** The values of `metric` that `broker` reached, one per successful round. */
function valuesOf (measurements: readonly Measurement[], scenario: Scenario, broker: BrokerDefinition, metric: Metric): number[] {
  return measurements
    .filter(m => m.scenario === scenario && m.broker === broker && m.values !== undefined)
    .map(m => m.values![metric.key]!)
    .filter(value => Number.isFinite(value))
}

/**
 * The summary table: the median of the rounds per broker, and the first non-peer broker
 * (Troupe) divided by each peer. A ratio above 1 is better for rates, below 1 for ms and KB.
 */
export function summaryTable (scenarios: readonly Scenario[], brokers: readonly BrokerDefinition[], measurements: readonly Measurement[]): string {
  const subject = brokers.find(broker => !broker.peer)
  const peers = subject === undefined ? [] : brokers.filter(broker => broker.peer)
  const header = ['Scenario', 'Unit', ...brokers.map(broker => broker.label), ...peers.map(peer => `${subject!.label}/${peer.label}`)]
  const lines = [row(header), row(header.map((_, i) => i < 2 ? '---' : '---:'))]
  for (const scenario of scenarios) {
    for (const metric of scenario.metrics) {
      const medians = new Map(brokers.map(broker => [broker, median(valuesOf(measurements, scenario, broker, metric))]))
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

/** Every round's value, to show the spread behind each median; "failed" marks a run that threw. */
export function roundsTable (scenarios: readonly Scenario[], brokers: readonly BrokerDefinition[], measurements: readonly Measurement[], rounds: number): string {
  const header = ['Scenario', 'Broker', ...Array.from({ length: rounds }, (_, i) => `Round ${i + 1}`)]
  const lines = [row(header), row(header.map((_, i) => i < 2 ? '---' : '---:'))]
  for (const scenario of scenarios) {
    for (const metric of scenario.metrics) {
      for (const broker of brokers) {
        const cells = Array.from({ length: rounds }, (_, round) => {
          const found = measurements.find(m => m.scenario === scenario && m.broker === broker && m.round === round)
          if (found === undefined) return '–'
          return found.values === undefined ? 'failed' : format(found.values[metric.key]!, metric.decimals)
        })
        lines.push(row([`${metric.label} (${metric.unit})`, broker.label, ...cells]))
      }
    }
  }
  return lines.join('\n')
}
