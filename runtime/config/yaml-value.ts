import { parse as parseYaml } from 'yaml'
import { ConfigError } from './config-error.js'

/**
 * A structured option's value: as it is from the config file, or parsed from the YAML (flow
 * style, such as `[{type: tls, port: 8883}]`) of a flag or environment variable.
 */
export function yamlValue (name: string, raw: unknown, source: string): unknown {
  if (typeof raw !== 'string') return raw
  try {
    return parseYaml(raw)
  } catch (error) {
    throw new ConfigError(name, raw, `not valid YAML: ${(error as Error).message.split('\n')[0]!}`, source)
  }
}
