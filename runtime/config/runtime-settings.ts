import { Document, isMap, parseDocument } from 'yaml'
import type { Logger } from 'pino'
import { readFileForEdit, writeFileAtomically } from '../atomic-file.js'
import { ConfigError } from './config-error.js'
import type { LoadedConfig } from './load-config.js'
import { OPTIONS, type ConfigSource, type OptionKey } from './options.js'

/** One option as the monitor's Configuration page shows it. */
export interface SettingView {
  readonly key: OptionKey
  /** Its name in config.yaml and as a flag. */
  readonly name: string
  readonly env: string
  readonly description: string
  /** The value in force, as text (secrets masked). */
  readonly value: string
  readonly defaultValue: string
  /** Where the value came from; `monitor` once changed on the Configuration page. */
  readonly source: ConfigSource | 'monitor'
  /** Whether it can be changed while the broker runs. */
  readonly changeable: boolean
}

/** What a change did: applied, and whether the config file now holds it. */
export interface SettingChange {
  readonly key: OptionKey
  readonly value: string
  /** The config file it was written to, or why it was not. */
  readonly persisted: { readonly file: string } | { readonly notPersisted: string }
}

/** Applies a setting at run time (Broker.applySetting); false when it is only read at start. */
export interface SettingApplier {
  readonly changeable: ReadonlySet<OptionKey>
  apply (key: OptionKey, value: unknown): boolean
}

/**
 * The broker's configuration as it runs: where each value came from, and the changes made
 * from the monitor, checked with the option's own parser, applied at once and written back to
 * the config file (when the broker was started with one) so that a restart keeps them.
 */
export class RuntimeSettings {
  private readonly values: Record<OptionKey, unknown>
  private readonly changed = new Set<OptionKey>()

  constructor (private readonly loaded: LoadedConfig, private readonly applier: SettingApplier, private readonly log: Logger) {
    this.values = { ...loaded.config }
  }

  list (): SettingView[] {
    return (Object.keys(OPTIONS) as OptionKey[]).map(key => ({
      key,
      name: OPTIONS[key].name,
      env: OPTIONS[key].env,
      description: OPTIONS[key].description,
      value: display(key, this.values[key]),
      defaultValue: display(key, OPTIONS[key].defaultValue),
      source: this.changed.has(key) ? 'monitor' : this.loaded.sources[key],
      changeable: this.applier.changeable.has(key)
    }))
  }

  /** Checks, applies and persists a new value; a ConfigError when it is not allowed. */
  async change (key: OptionKey, raw: string, by: string): Promise<SettingChange> {
    const notChangeable = new ConfigError(OPTIONS[key].name, raw, 'this setting is read at start: change it in the configuration and restart the broker', 'monitor')
    if (!this.applier.changeable.has(key)) throw notChangeable
    const value = OPTIONS[key].parse(raw, 'monitor')
    if (!this.applier.apply(key, value)) throw notChangeable
    this.values[key] = value
    this.changed.add(key)
    const persisted = await this.persist(key, value)
    this.log.info({ setting: OPTIONS[key].name, value, by, ...persisted }, 'setting changed from the monitor')
    return { key, value: display(key, value), persisted }
  }

  private async persist (key: OptionKey, value: unknown): Promise<SettingChange['persisted']> {
    const file = this.loaded.file
    if (file === undefined) return { notPersisted: 'the broker was started without a config file' }
    const source = this.loaded.sources[key]
    try {
      const existing = await readFileForEdit(file)
      const document = existing === undefined ? new Document({}) : parseDocument(existing.text)
      if (!isMap(document.contents) && document.contents !== null) return { notPersisted: `${file} is not a YAML mapping` }
      document.set(OPTIONS[key].name, value)
      await writeFileAtomically(existing?.path ?? file, String(document), existing)
    } catch (error) {
      this.log.warn({ err: error, file }, 'could not write a changed setting to the config file')
      return { notPersisted: `${file} could not be written: ${(error as Error).message}` }
    }
    // Written, but a flag or variable set at start would still win at the next one.
    return source === 'flag' || source === 'env' ? { notPersisted: `written to ${file}, but the ${source === 'flag' ? 'command-line flag' : 'environment variable'} that set it wins at the next start` } : { file }
  }
}

/** A value as text: lists and objects as JSON, secrets (HTTP auth provider headers) masked. */
function display (key: OptionKey, value: unknown): string {
  if (value === undefined) return ''
  if (key === 'monitorAdminToken') return '********'
  if (key === 'authProviders' && Array.isArray(value)) {
    value = value.map(entry => typeof entry === 'object' && entry !== null && 'headers' in entry
      ? { ...entry, headers: Object.fromEntries(Object.keys((entry as { headers: object }).headers).map(name => [name, '********'])) }
      : entry)
  }
  return typeof value === 'string' ? value : JSON.stringify(value)
}
