/** A configuration value the broker cannot start with; the message names the key, the value and what is allowed. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError'

  constructor (
    readonly key: string,
    readonly value: unknown,
    readonly allowed: string,
    readonly source: string
  ) {
    super(`invalid ${key} ${JSON.stringify(value)} (from ${source}): ${allowed}`)
  }
}
