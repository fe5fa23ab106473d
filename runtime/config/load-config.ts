import { readFileSync } from 'node:fs'
import { parse as parseYaml } from 'yaml'
import { ConfigError } from './config-error.js'
import { OPTIONS, type BrokerConfig, type ConfigSource, type OptionKey } from './options.js'
import { resolveListeners } from './resolve-listeners.js'

export interface LoadedConfig {
  readonly config: BrokerConfig
  /** Where each value came from, for the monitor's configuration page and for logs. */
  readonly sources: Readonly<Record<OptionKey, ConfigSource>>
  readonly file: string | undefined
}

export interface ConfigInputs {
  /** Values from command-line flags, by option name (`max-keepalive`). */
  readonly flags?: Readonly<Record<string, string | undefined>>
  readonly env?: Readonly<Record<string, string | undefined>>
  /** Path of a YAML config file (`--config` or TROUPE_CONFIG). */
  readonly file?: string | undefined
}

const KEYS = Object.keys(OPTIONS) as OptionKey[]
const BY_NAME = new Map(KEYS.map(key => [OPTIONS[key].name, key]))
/** TROUPE_ variables that are not options but are still the broker's own. */
const OTHER_ENV = new Set(['TROUPE_CONFIG'])

/** Builds the configuration: flags over environment over file over defaults. */
export function loadConfig (inputs: ConfigInputs): LoadedConfig {
  const values: Record<string, unknown> = {}
  const sources = {} as Record<OptionKey, ConfigSource>
  /** The flag, variable or file each value came from, for errors found once all are in. */
  const origins = {} as Record<OptionKey, string>
  for (const key of KEYS) {
    values[key] = OPTIONS[key].defaultValue
    sources[key] = 'default'
    origins[key] = 'default'
  }
  const take = (key: OptionKey, raw: unknown, source: ConfigSource, where: string): void => {
    values[key] = OPTIONS[key].parse(raw, where)
    sources[key] = source
    origins[key] = where
  }

  const file = inputs.file ?? inputs.env?.TROUPE_CONFIG
  if (file !== undefined) {
    for (const [name, raw] of Object.entries(readConfigFile(file))) {
      const key = BY_NAME.get(name)
      if (key === undefined) throw new ConfigError(name, raw, `unknown option; known options are ${[...BY_NAME.keys()].join(', ')}`, file)
      take(key, raw, 'file', file)
    }
  }
  for (const [variable, raw] of Object.entries(inputs.env ?? {})) {
    if (!variable.startsWith('TROUPE_') || raw === undefined || OTHER_ENV.has(variable)) continue
    const key = KEYS.find(candidate => OPTIONS[candidate].env === variable)
    if (key === undefined) throw new ConfigError(variable, raw, `unknown environment variable; known ones are ${KEYS.map(k => OPTIONS[k].env).join(', ')}`, 'environment')
    take(key, raw, 'env', variable)
  }
  for (const [name, raw] of Object.entries(inputs.flags ?? {})) {
    if (raw === undefined) continue
    const key = BY_NAME.get(name)
    if (key === undefined) throw new ConfigError(`--${name}`, raw, 'unknown flag; see troupe --help', 'command line')
    take(key, raw, 'flag', `--${name}`)
  }
  const config = values as BrokerConfig
  // Listeners combine several options (a TLS port needs a certificate): checked once all are in.
  resolveListeners(config, key => origins[key])
  return { config, sources, file }
}

function readConfigFile (file: string): Record<string, unknown> {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    throw new ConfigError('config', file, `cannot read the file (${(error as NodeJS.ErrnoException).code ?? String(error)}); give the path of a YAML file`, 'command line')
  }
  let parsed: unknown
  try {
    parsed = parseYaml(text)
  } catch (error) {
    throw new ConfigError('config', file, `not valid YAML: ${(error as Error).message.split('\n')[0]!.replace(/:\s*$/, '')}`, file)
  }
  if (parsed === null || parsed === undefined) return {}
  if (typeof parsed !== 'object' || Array.isArray(parsed)) throw new ConfigError('config', file, 'expected a YAML mapping of option names to values', file)
  return parsed as Record<string, unknown>
}
