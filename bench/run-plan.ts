import type { BrokerDefinition } from './brokers.js'
import type { MqttVersion } from './load/packets.js'
import type { Scenario } from './scenario.js'
import { MQTT5_COMPARED } from './scenarios/index.js'

/** One run of a round: a fresh broker and clients of one MQTT version. */
export interface PlannedRun {
  readonly broker: BrokerDefinition
  readonly version: MqttVersion
}

/** The version of the main table: 3.1.1 whenever it was asked for, 5.0 only on its own. */
export function mainVersion (versions: readonly MqttVersion[]): MqttVersion {
  return versions.includes(4) ? 4 : 5
}

/** The scenarios of `scenarios` that also run on 5.0: only when the main run is 3.1.1 and 5.0 was asked for too. */
export function comparedScenarios (scenarios: readonly Scenario[], versions: readonly MqttVersion[]): Scenario[] {
  const both = versions.includes(4) && versions.includes(5)
  return both ? scenarios.filter(scenario => MQTT5_COMPARED.includes(scenario)) : []
}

/** False for a configuration variant in any scenario but its own: it is measured in those only. */
export function runsIn (broker: BrokerDefinition, scenario: Scenario): boolean {
  return broker.variant === undefined || broker.variant.scenarios.includes(scenario.id)
}

/**
 * What one round of `scenario` runs, in order: every broker on the main version (brokers
 * without 5.0 are left out when that is 5.0, configuration variants when it is not theirs),
 * then, when both versions were asked for and the scenario is compared, every broker with 5.0
 * but the variants again on 5.0. Both sit in the same round so that drift on the machine hits
 * the two versions, and the configurations, alike.
 */
export function roundRuns (scenario: Scenario, brokers: readonly BrokerDefinition[], versions: readonly MqttVersion[]): PlannedRun[] {
  const main = mainVersion(versions)
  const runs = brokers
    .filter(broker => (main === 4 || broker.mqtt5) && runsIn(broker, scenario))
    .map(broker => ({ broker, version: main }))
  if (comparedScenarios([scenario], versions).length > 0) {
    // The variants stay on the main version: their tables compare configurations, not versions.
    runs.push(...brokers.filter(broker => broker.mqtt5 && broker.variant === undefined).map(broker => ({ broker, version: 5 as const })))
  }
  return runs
}
