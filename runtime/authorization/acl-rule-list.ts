import { AclError } from './acl-error.js'
import { aclTopicProblem, ACL_ACCESS, isAclAccess, type AclRule } from './acl-rule.js'

const KEYS = new Set(['user', 'pattern', 'access', 'topic'])

/**
 * Access rules given as data (the YAML configuration's list), the same rules as an acl_file:
 *
 *   - { access: read, topic: public/# }                 # no user: anonymous clients
 *   - { user: alice, access: readwrite, topic: alice/# }
 *   - { pattern: true, access: write, topic: devices/%c/state }
 *
 * `access` is required here (a file line may leave it out). A pattern applies to every client,
 * so it takes no `user`. Throws AclError naming `source` and the entry's index.
 */
export function parseAclRuleList (value: unknown, source: string): AclRule[] {
  if (!Array.isArray(value)) throw new AclError(source, undefined, 'expected a list of rules like { user?: name, pattern?: true, access: read|write|readwrite|deny, topic: filter }')
  return value.map((entry: unknown, index) => parseEntry(entry, (problem: string) => new AclError(source, { index }, problem)))
}

function parseEntry (entry: unknown, fail: (problem: string) => AclError): AclRule {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw fail('a rule is a mapping: { user?: name, pattern?: true, access: ..., topic: ... }')
  const fields = entry as Record<string, unknown>
  for (const key of Object.keys(fields)) {
    if (!KEYS.has(key)) throw fail(`unknown key "${key}": a rule has user, pattern, access and topic`)
  }
  const { user, pattern, access, topic } = fields
  if (!isAclAccess(access)) throw fail(`access must be one of ${ACL_ACCESS.join(', ')}, not ${JSON.stringify(access)}`)
  if (typeof topic !== 'string') throw fail(`topic must be a topic filter string, not ${JSON.stringify(topic)}`)
  const problem = aclTopicProblem(topic)
  if (problem !== undefined) throw fail(problem)
  if (pattern !== undefined && typeof pattern !== 'boolean') throw fail(`pattern must be true or false, not ${JSON.stringify(pattern)}`)
  if (user !== undefined && typeof user !== 'string') throw fail(`user must be a string, not ${JSON.stringify(user)}`)
  if (pattern === true) {
    if (user !== undefined) throw fail('a pattern applies to every client: remove "user" (use %u in the topic for the user name)')
    return { kind: 'pattern', access, topic }
  }
  return { kind: 'topic', user, access, topic }
}
