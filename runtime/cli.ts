#!/usr/bin/env node
// First: it sets a V8 flag that must be in force before the data path allocates anything.
import './gc-tuning.js'
import { parseArgs } from 'node:util'
import { ScramCredentialsFileError } from '../actors/connection/auth-methods/scram-credentials-file.js'
import { PasswordFileError } from './auth/password-file.js'
import { AuthProviderError } from './auth/providers/load-auth-providers.js'
import { AclError } from './authorization/acl-error.js'
import { PASSWD_USAGE, passwdCommand } from './passwd-command.js'
import { Broker } from './broker.js'
import { ConfigError } from './config/config-error.js'
import { loadConfig, type LoadedConfig } from './config/load-config.js'
import { OPTIONS, type OptionKey } from './config/options.js'
import { ListenerSetupError } from './listeners/listener-setup-error.js'
import { createLogger } from './logging.js'
import { RecentLogs } from './recent-logs.js'
import { SCRAM_USER_USAGE, scramUserCommand } from './scram-user-command.js'
import { troupeVersion } from './troupe-version.js'
import { MonitorSetupError, startMonitor, type RunningMonitor } from '../monitor/start-monitor.js'
import { runRemoteMonitor } from '../monitor/remote-monitor-command.js'
import { BrokerUnreachableError } from '../monitor/remote-monitor-source.js'
import type { Logger } from 'pino'

/** Exit code for a bad option or config value. */
const EXIT_BAD_CONFIG = 2
const EXIT_FAILED = 1

const KEYS = Object.keys(OPTIONS) as OptionKey[]

function helpText (): string {
  const rows = KEYS.map(key => {
    const option = OPTIONS[key]
    return [`  --${option.name} ${option.valueHint}`, `${option.description} (default ${describeDefault(option.defaultValue)}; env ${option.env})`]
  })
  rows.push(['  --no-monitor', 'The same as --monitor false'], ['  --broker URL', 'troupe monitor: the same as --monitor-broker'], ['  --config FILE', 'YAML file with any of the options above (env TROUPE_CONFIG)'])
  rows.push(['  -h, --help', 'Show this help'], ['  -v, --version', 'Show the version'])
  const commands = [
    ['  start', 'Run the broker (the default command)'],
    ['  monitor', 'Run only the monitor, for the broker whose monitor is at --broker URL (the same as --monitor-broker), through its admin API with its monitor-admin-token'],
    ['  passwd FILE USER', 'Add USER to a Mosquitto password file for --password-file, or change their password (asked twice, or --password-stdin); passwd -D FILE USER removes USER'],
    ['  scram-user FILE USER', 'Add USER to a SCRAM-SHA-256 credentials file for --scram-users, or change their password: asked twice on the terminal, or read as one line from stdin with --password-stdin']
  ]
  const width = Math.max(...[...rows, ...commands].map(([flag]) => flag!.length)) + 2
  return [
    'Usage: troupe [start] [options]',
    '       troupe monitor --broker URL [options]',
    `       ${PASSWD_USAGE}`,
    `       ${SCRAM_USER_USAGE}`,
    '',
    'Troupe, an MQTT 3.1/3.1.1/5.0 broker in which every client session is an actor.',
    'Each option can also be set in the config file or an environment variable;',
    'flags win over environment, environment over file, file over defaults.',
    '',
    'Commands:',
    ...commands.map(([command, text]) => command!.padEnd(width) + text!),
    '',
    'Options:',
    ...rows.map(([flag, text]) => flag!.padEnd(width) + text!)
  ].join('\n')
}

function describeDefault (value: unknown): string {
  return value === undefined || (Array.isArray(value) && value.length === 0) ? 'none' : String(value)
}

/** Where a value came from, as loadConfig names it in a ConfigError. */
function sourceOf (loaded: LoadedConfig, key: OptionKey): string {
  switch (loaded.sources[key]) {
    case 'flag': return `--${OPTIONS[key].name}`
    case 'env': return OPTIONS[key].env
    case 'file': return loaded.file ?? 'config file'
    case 'default': return 'default'
  }
}

async function main (argv: string[]): Promise<void> {
  if (argv[0] === 'passwd') {
    const outcome = await passwdCommand(argv.slice(1))
    if (outcome.code === 0) console.log(outcome.message)
    else console.error(`troupe: ${outcome.message}`)
    process.exit(outcome.code)
  }
  if (argv[0] === 'scram-user') {
    const outcome = await scramUserCommand(argv.slice(1))
    if (outcome.code === 0) console.log(outcome.message)
    else console.error(`troupe: ${outcome.message}`)
    process.exit(outcome.code)
  }
  let parsed
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        ...Object.fromEntries(KEYS.map(key => [OPTIONS[key].name, { type: 'string' as const }])),
        config: { type: 'string' },
        'no-monitor': { type: 'boolean' },
        broker: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' }
      }
    })
  } catch (error) {
    // parseArgs explains how to pass positionals that look like flags; the user needs less.
    const message = (error as Error).message.replace(/\. To specify a positional argument.*$/s, '')
    console.error(`troupe: ${message}; see troupe --help`)
    process.exit(EXIT_BAD_CONFIG)
  }
  const { positionals } = parsed
  const values = parsed.values as Record<string, string | boolean | undefined>
  if (values.help === true) {
    console.log(helpText())
    return
  }
  if (values.version === true) {
    console.log(troupeVersion())
    return
  }
  const command = positionals[0] ?? 'start'
  if ((command !== 'start' && command !== 'monitor') || positionals.length > 1) {
    console.error(`troupe: unknown command "${positionals.join(' ')}"; see troupe --help`)
    process.exit(EXIT_BAD_CONFIG)
  }

  let loaded
  try {
    const flags: Record<string, string | undefined> = Object.fromEntries(KEYS.map(key => [OPTIONS[key].name, values[OPTIONS[key].name] as string | undefined]))
    if (values.broker !== undefined) {
      if (command !== 'monitor') throw new ConfigError('--broker', values.broker, 'is for troupe monitor: troupe monitor --broker URL', 'command line')
      if (flags['monitor-broker'] !== undefined) throw new ConfigError('monitor-broker', flags['monitor-broker'], 'give either --broker or --monitor-broker, not both', '--broker')
      flags['monitor-broker'] = values.broker as string
    }
    if (values['no-monitor'] === true) {
      if (flags.monitor !== undefined) throw new ConfigError('monitor', flags.monitor, 'give either --monitor or --no-monitor, not both', '--no-monitor')
      flags.monitor = 'false'
    }
    loaded = loadConfig({ flags, env: process.env, file: values.config as string | undefined })
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`troupe: ${error.message}`)
      process.exit(EXIT_BAD_CONFIG)
    }
    throw error
  }

  const recentLogs = new RecentLogs()
  const log = createLogger(loaded.config.logLevel, undefined, recentLogs)
  if (command === 'monitor') {
    await monitorOnly(loaded, log)
    return
  }
  let broker: Broker
  try {
    broker = await Broker.start({ config: loaded.config, log })
  } catch (error) {
    if (error instanceof ScramCredentialsFileError) {
      console.error(`troupe: ${new ConfigError(OPTIONS.scramUsers.name, loaded.config.scramUsers, error.detail, sourceOf(loaded, 'scramUsers')).message}`)
      process.exit(EXIT_BAD_CONFIG)
    }
    if (error instanceof PasswordFileError) {
      console.error(`troupe: ${new ConfigError(OPTIONS.passwordFile.name, loaded.config.passwordFile, error.detail, sourceOf(loaded, 'passwordFile')).message}`)
      process.exit(EXIT_BAD_CONFIG)
    }
    if (error instanceof AclError) {
      console.error(`troupe: invalid access rules (from ${sourceOf(loaded, 'aclFile')}): ${error.message}`)
      process.exit(EXIT_BAD_CONFIG)
    }
    if (error instanceof AuthProviderError) {
      console.error(`troupe: ${error.message} (auth-providers from ${sourceOf(loaded, 'authProviders')})`)
      process.exit(EXIT_BAD_CONFIG)
    }
    // A listener's certificate or key that cannot be used is a configuration error like any other.
    if (error instanceof ListenerSetupError && error.stage === 'configuration') {
      console.error(`troupe: ${error.message}`)
      process.exit(EXIT_BAD_CONFIG)
    }
    const message = (error as Error).message
    log.fatal({ err: error }, message)
    log.flush()
    console.error(`troupe: ${message}`)
    process.exit(EXIT_FAILED)
  }

  let monitor: RunningMonitor | undefined
  if (loaded.config.monitor) {
    const { config } = loaded
    try {
      monitor = await startMonitor(broker, { loaded, recentLogs, port: config.monitorPort, host: config.monitorHost, passwordFile: config.monitorPasswordFile, admins: config.monitorAdmins, adminToken: config.monitorAdminToken }, log)
    } catch (error) {
      await broker.close()
      if (error instanceof PasswordFileError) {
        console.error(`troupe: ${new ConfigError(OPTIONS.monitorPasswordFile.name, config.monitorPasswordFile, error.detail, sourceOf(loaded, 'monitorPasswordFile')).message}`)
        process.exit(EXIT_BAD_CONFIG)
      }
      if (error instanceof MonitorSetupError) {
        console.error(`troupe: ${error.message}`)
        process.exit(EXIT_BAD_CONFIG)
      }
      throw error
    }
  }

  const stop = (signal: string): void => {
    log.info({ signal }, 'signal received')
    Promise.all([monitor?.close(), broker.close()]).then(
      () => { log.flush(); process.exit(0) },
      (error: unknown) => { log.error({ err: error }, 'shutdown failed'); log.flush(); process.exit(EXIT_FAILED) }
    )
  }
  process.once('SIGINT', () => stop('SIGINT'))
  process.once('SIGTERM', () => stop('SIGTERM'))
}

/** `troupe monitor`: the monitor alone, reading another process's broker; runs until a signal. */
async function monitorOnly (loaded: LoadedConfig, log: Logger): Promise<void> {
  let monitor: RunningMonitor
  try {
    monitor = await runRemoteMonitor(loaded.config, log)
  } catch (error) {
    if (error instanceof PasswordFileError) {
      console.error(`troupe: ${new ConfigError(OPTIONS.monitorPasswordFile.name, loaded.config.monitorPasswordFile, error.detail, sourceOf(loaded, 'monitorPasswordFile')).message}`)
      process.exit(EXIT_BAD_CONFIG)
    }
    if (error instanceof MonitorSetupError || error instanceof BrokerUnreachableError) {
      console.error(`troupe: ${error.message}`)
      process.exit(EXIT_BAD_CONFIG)
    }
    throw error
  }
  const stop = (signal: string): void => {
    log.info({ signal }, 'signal received')
    monitor.close().then(() => { log.flush(); process.exit(0) }, () => process.exit(EXIT_FAILED))
  }
  process.once('SIGINT', () => stop('SIGINT'))
  process.once('SIGTERM', () => stop('SIGTERM'))
}

await main(process.argv.slice(2))
