import { topicFilterProblem } from '../../actors/router/topic-rules.js'

/** What a rule grants: `deny` takes away what a broader rule of the same list would grant. */
export type AclAccess = 'read' | 'write' | 'readwrite' | 'deny'

export const ACL_ACCESS: readonly AclAccess[] = ['read', 'write', 'readwrite', 'deny']

/**
 * One access rule, from an acl_file line or a YAML entry alike. A `topic` rule belongs to one
 * user (`user` undefined: to anonymous clients); a `pattern` rule applies to every client,
 * with `%c` and `%u` levels standing for its client id and user name.
 */
export type AclRule =
  | { readonly kind: 'topic', readonly user: string | undefined, readonly access: AclAccess, readonly topic: string }
  | { readonly kind: 'pattern', readonly access: AclAccess, readonly topic: string }

export function isAclAccess (value: unknown): value is AclAccess {
  return typeof value === 'string' && (ACL_ACCESS as readonly string[]).includes(value)
}

/** Why `topic` cannot be a rule's topic (it must be a valid topic filter), or undefined. */
export function aclTopicProblem (topic: string): string | undefined {
  const problem = topicFilterProblem(topic)
  return problem === undefined ? undefined : `"${topic}" is not a valid topic filter (${problem})`
}
