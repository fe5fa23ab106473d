import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { BrokerProcess, freePort } from './broker-process.js'
import { BROKERS, isVariant, type Companion, type VariantBroker } from './brokers.js'
import { killAll } from './children.js'
import { describeEnvironment } from './environment.js'
import { prepareLoadProcess, spinEventLoop } from './load-process.js'
import { helpText, parseOptions, type BenchOptions } from './options.js'
import { roundsTable, summaryTable, variantTable, versionName, versionTable, type Measurement } from './report.js'
import { comparedScenarios, mainVersion, roundRuns, runsIn, type PlannedRun } from './run-plan.js'
import type { Scenario } from './scenario.js'
import { SCENARIOS } from './scenarios/index.js'

/** Longest a single run may take beyond its warm-up and window before it counts as hung. */
const RUN_SLACK_MS = 90_000
/** Width of the broker column of the progress lines. */
const ID_WIDTH = Math.max(...BROKERS.map(broker => broker.id.length))

/**
 * `npm run bench`: every selected scenario, round after round, each round running every
 * selected broker once in turn (A B C A B C ...), followed, for the scenarios compared across
 * MQTT versions, by every broker with 5.0 again on 5.0; each run against a freshly started
 * broker, so that drift on the machine spreads over all brokers and versions alike. Troupe's
 * storage variants (LevelDB) run in their one scenario, in the same rounds, and get a table of
 * their own instead of columns in the comparison. Progress goes to stderr, the Markdown tables
 * to stdout.
 */
async function main (argv: readonly string[]): Promise<number> {
  let options: BenchOptions | undefined
  try {
    options = parseOptions(argv)
  } catch (error) {
    console.error(`bench: ${(error as Error).message}\n\n${helpText()}`)
    return 2
  }
  if (options === undefined) {
    console.log(helpText())
    return 0
  }
  const scenarios = pick(SCENARIOS, options.only, 'scenario')
  const brokers = pick(BROKERS, options.brokers, 'broker')
  const main = mainVersion(options.mqtt)
  for (const broker of brokers) {
    if (main === 5 && !broker.mqtt5) log(`${broker.id} has no MQTT 5 support: skipped under --mqtt 5`)
    if (isVariant(broker) && !scenarios.some(scenario => runsIn(broker, scenario))) log(`${broker.id} runs in ${broker.variant.scenarios.join(', ')} only: skipped`)
  }
  // The variants are measured against Troupe as configured by default, not against the peers.
  const comparison = brokers.filter(broker => !isVariant(broker))
  const variants = brokers.filter(isVariant)
  const compared = comparedScenarios(scenarios, options.mqtt)
  const comparedBrokers = comparison.filter(broker => broker.mqtt5)
  const needsIdle = scenarios.some(scenario => scenario.id === 'memory') ? options.idleConnections : 0
  for (const warning of prepareLoadProcess(needsIdle)) log(`warning: ${warning}`)

  const started = new Date()
  const environment = describeEnvironment()
  log(`${started.toISOString()}: ${environment}`)
  const workDir = mkdtempSync(join(tmpdir(), 'troupe-bench-'))
  const measurements: Measurement[] = []
  const stopSpinning = options.spin ? spinEventLoop() : undefined
  let runNumber = 0
  try {
    for (const scenario of scenarios) {
      for (let round = 0; round < options.rounds; round++) {
        for (const run of roundRuns(scenario, brokers, options.mqtt)) {
          measurements.push(await runOnce(scenario, run, round, runNumber++, options, workDir))
        }
      }
    }
  } finally {
    stopSpinning?.()
    rmSync(workDir, { recursive: true, force: true })
  }

  const minutes = (Date.now() - started.getTime()) / 60_000
  const summarySection = comparison.length > 0 ? ['', summaryTable(scenarios, comparison, measurements, main)] : []
  const versionSection = compared.length > 0 && comparedBrokers.length > 0
    ? ['', 'MQTT 5.0 against 3.1.1 (same broker, same scenario), median of the rounds:', '', versionTable(compared, comparedBrokers, measurements)]
    : []
  const groups = new Map<string, VariantBroker[]>()
  for (const variant of variants) groups.set(variant.variant.group.id, [...groups.get(variant.variant.group.id) ?? [], variant])
  const variantSections = [...groups.values()].flatMap(group => {
    const groupScenarios = scenarios.filter(scenario => group.some(variant => runsIn(variant, scenario)))
    if (groupScenarios.length === 0) return []
    return [
      '',
      `${groupScenarios.map(scenario => scenario.title).join(', ')} ${group[0]!.variant.group.heading}, MQTT ${versionName(main)}, median of the rounds:`,
      '',
      variantTable(groupScenarios, comparison.find(broker => !broker.peer), group, measurements, main)
    ]
  })
  console.log([
    `Run of ${started.toISOString().slice(0, 10)}, ${minutes.toFixed(1)} min: ${environment}.`,
    `MQTT ${versionName(main)}, ${options.payloadBytes}-byte payloads, ${options.rounds} rounds, ` +
      `${options.warmupSeconds} s warm-up (latency ${options.latencyWarmupSeconds} s) + ${options.seconds} s measured; QoS 0 window ${options.qos0Window === 0 ? 'none (flood)' : options.qos0Window}` +
      `${options.spin ? ', spinning load' : ''}; broker on core 0, load on core 1. Median of the rounds:`,
    ...summarySection,
    ...versionSection,
    ...variantSections,
    '',
    'Every round:',
    '',
    roundsTable(scenarios, brokers, measurements, options.rounds)
  ].join('\n'))
  const failed = measurements.filter(m => m.values === undefined).length
  if (failed > 0) log(`${failed} run(s) failed: see the errors above`)
  return failed > 0 ? 1 : 0
}

/** One scenario against one fresh broker; a failure is logged and recorded, and the bench goes on. */
async function runOnce (scenario: Scenario, { broker, version }: PlannedRun, round: number, runNumber: number, options: BenchOptions, workDir: string): Promise<Measurement> {
  const tag = `[${scenario.id} ${round + 1}/${options.rounds}] ${broker.id.padEnd(ID_WIDTH)} ${versionName(version).padEnd(5)}`
  const port = await freePort()
  const launch = { port, monitorPort: await freePort(), tuning: scenario.tuning, workDir, nodeArgs: options.nodeArgs }
  let running: BrokerProcess | undefined
  let companion: Companion | undefined
  try {
    running = await BrokerProcess.start(broker.id, broker.launch(launch), port)
    companion = await broker.companion?.(launch)
    const limitMs = (Math.max(options.warmupSeconds, options.latencyWarmupSeconds) + options.seconds) * 1000 + RUN_SLACK_MS
    // Client ids new to every run, so that no session (persistent in qos1) could carry over
    // from one run to the next; fixed width, so that every broker gets ids of the same length.
    const runId = `b${String(runNumber).padStart(4, '0')}v${version}${scenario.id}`
    const run = scenario.run({ broker: running, options, version, runId })
    const outcome = await withTimeout(run, limitMs, `${scenario.id} on ${broker.id} (MQTT ${versionName(version)})`)
    const companionDetail = await companion?.stop()
    companion = undefined
    const shown = scenario.metrics
      .map(metric => `${outcome.values[metric.key]!.toLocaleString('en-US', { maximumFractionDigits: metric.decimals })} ${metric.unit}`)
      .join(', ')
    log(`${tag} ${shown}  (${outcome.detail}${companionDetail === undefined ? '' : `; ${companionDetail}`})`)
    return { scenario, broker, version, round, values: outcome.values }
  } catch (error) {
    log(`${tag} FAILED: ${(error as Error).stack ?? String(error)}`)
    return { scenario, broker, version, round, values: undefined }
  } finally {
    await companion?.stop()
    await running?.stop()
  }
}

async function withTimeout<T> (work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms)
  })
  try {
    return await Promise.race([work, timeout])
  } finally {
    clearTimeout(timer)
  }
}

/** The entries named in `ids` (in table order), or all of them; an unknown name is an error. */
function pick<T extends { readonly id: string }> (table: readonly T[], ids: readonly string[] | undefined, kind: string): T[] {
  if (ids === undefined) return [...table]
  for (const id of ids) {
    if (!table.some(entry => entry.id === id)) throw new Error(`unknown ${kind} "${id}"; known: ${table.map(entry => entry.id).join(', ')}`)
  }
  return table.filter(entry => ids.includes(entry.id))
}

function log (line: string): void {
  process.stderr.write(`${line}\n`)
}

let exitCode = 1
try {
  exitCode = await main(process.argv.slice(2))
} catch (error) {
  log(`bench: ${(error as Error).message}`)
} finally {
  killAll()
}
process.exit(exitCode)
