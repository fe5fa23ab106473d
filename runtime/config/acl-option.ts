import { AclError } from '../authorization/acl-error.js'
import { parseAclRuleList } from '../authorization/acl-rule-list.js'
import type { AclRule } from '../authorization/acl-rule.js'
import { ConfigError } from './config-error.js'
import { yamlValue } from './yaml-value.js'

/**
 * The `acl` option: access rules as a YAML list (flow style on the command line or in the
 * environment), the same rules an acl_file holds. Undefined when not given.
 */
export function parseAclOption (raw: unknown, source: string): readonly AclRule[] | undefined {
  const list = yamlValue('acl', raw, source)
  if (list === null || list === undefined) return undefined
  try {
    return parseAclRuleList(list, 'acl')
  } catch (error) {
    if (error instanceof AclError) throw new ConfigError('acl', raw, error.message, source)
    throw error
  }
}
