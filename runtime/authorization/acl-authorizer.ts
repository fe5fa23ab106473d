import type { Authorizer, ClientIdentity, PublishAuthorization, ReadAuthorization, SubscribeAuthorization } from '../../actors/connection/authorizer.js'
import { readAclFile } from './acl-file.js'
import type { AclAccess, AclRule } from './acl-rule.js'
import { covers, intersects, matchesTopic } from './filter-relations.js'

const READ = 1
const WRITE = 2
const ACCESS_BITS: Record<AclAccess, number> = { read: READ, write: WRITE, readwrite: READ | WRITE, deny: 0 }

/** A rule ready to match: its filter split into levels (a pattern's `%c`/`%u` levels still in place). */
interface CompiledRule {
  readonly levels: readonly string[]
  /** READ and/or WRITE; 0 for deny. */
  readonly access: number
  readonly usesClientId: boolean
  readonly usesUsername: boolean
}

/** A list's rules as Mosquitto checks them: every deny first, then the grants in file order. */
interface RuleList {
  readonly denies: readonly CompiledRule[]
  readonly grants: readonly CompiledRule[]
}

/**
 * Authorization by access rules (an acl_file, or the same rules from YAML), deciding as
 * Mosquitto 2 does:
 *
 * - With rules configured, what no rule grants is refused.
 * - A client's own list is its user's `topic` rules (anonymous clients: the rules before any
 *   `user` line). It is checked first: a matching `deny` refuses, else a matching grant allows.
 * - If that list decided nothing, the `pattern` rules are checked the same way, after putting
 *   the client id for `%c` levels and the user name for `%u` levels (a pattern with `%u` does
 *   not apply to an anonymous client). A client whose id or user name holds `+` or `#` is
 *   refused everything once there are patterns, so it cannot widen them.
 * - So a `deny` wins over grants of its own list, and a user's `topic` grant is not taken
 *   back by a `pattern deny` (Mosquitto's order).
 * - A topic starting with `$` is only matched by rules starting with `$`.
 *
 * Beyond Mosquitto (whose acl_file grants every SUBSCRIBE and filters each message): a
 * SUBSCRIBE is refused when the rules let nothing through its filter, i.e. a deny covers the
 * whole filter or no read grant overlaps it. Otherwise it is granted and every message is still
 * checked against read access when it is sent, so `#` brings only what the client may read.
 */
export class AclAuthorizer implements Authorizer {
  private readonly anonymous: RuleList
  private readonly users = new Map<string, RuleList>()
  private readonly patterns: RuleList

  constructor (rules: readonly AclRule[]) {
    const anonymous: CompiledRule[] = []
    const byUser = new Map<string, CompiledRule[]>()
    const patterns: CompiledRule[] = []
    for (const rule of rules) {
      const compiled = compile(rule)
      if (rule.kind === 'pattern') patterns.push(compiled)
      else if (rule.user === undefined) anonymous.push(compiled)
      else {
        let list = byUser.get(rule.user)
        if (list === undefined) byUser.set(rule.user, list = [])
        list.push(compiled)
      }
    }
    this.anonymous = ruleList(anonymous)
    for (const [user, list] of byUser) this.users.set(user, ruleList(list))
    this.patterns = ruleList(patterns)
  }

  /** An authorizer with the rules of the acl_file at `path`; AclError when it cannot be read or has a bad line. */
  static async fromFile (path: string): Promise<AclAuthorizer> {
    return new AclAuthorizer(await readAclFile(path))
  }

  authorizePublish (request: PublishAuthorization): boolean {
    return this.decide(request, request.topic.split('/'), WRITE)
  }

  authorizeRead (request: ReadAuthorization): boolean {
    return this.decide(request, request.topic.split('/'), READ)
  }

  authorizeSubscribe (request: SubscribeAuthorization): boolean {
    const filter = request.filter.split('/')
    const own = this.ownRules(request)
    if (own.denies.some(rule => covers(rule.levels, filter))) return false
    if (own.grants.some(rule => (rule.access & READ) !== 0 && intersects(rule.levels, filter))) return true
    if (this.patternsRefuse(request)) return false
    const { denies, grants } = this.patterns
    if (denies.some(rule => applies(rule, request) && covers(substitute(rule, request), filter))) return false
    return grants.some(rule => (rule.access & READ) !== 0 && applies(rule, request) && intersects(substitute(rule, request), filter))
  }

  private decide (client: ClientIdentity, topic: readonly string[], access: number): boolean {
    const own = this.ownRules(client)
    for (const rule of own.denies) if (matchesTopic(rule.levels, topic)) return false
    for (const rule of own.grants) if ((rule.access & access) !== 0 && matchesTopic(rule.levels, topic)) return true
    if (this.patternsRefuse(client)) return false
    const { denies, grants } = this.patterns
    for (const rule of denies) if (applies(rule, client) && matchesTopic(substitute(rule, client), topic)) return false
    for (const rule of grants) if ((rule.access & access) !== 0 && applies(rule, client) && matchesTopic(substitute(rule, client), topic)) return true
    return false
  }

  private ownRules (client: ClientIdentity): RuleList {
    if (client.username === undefined) return this.anonymous
    return this.users.get(client.username) ?? NO_RULES
  }

  /** A client id or user name with a wildcard would turn a pattern into a wider filter. */
  private patternsRefuse (client: ClientIdentity): boolean {
    if (this.patterns.denies.length === 0 && this.patterns.grants.length === 0) return false
    return hasWildcard(client.clientId) || (client.username !== undefined && hasWildcard(client.username))
  }
}

const NO_RULES: RuleList = { denies: [], grants: [] }

/** A pattern naming `%u` does not apply to an anonymous client. */
function applies (rule: CompiledRule, client: ClientIdentity): boolean {
  return !rule.usesUsername || client.username !== undefined
}

function compile (rule: AclRule): CompiledRule {
  const levels = rule.topic.split('/')
  const isPattern = rule.kind === 'pattern'
  return {
    levels,
    access: ACCESS_BITS[rule.access],
    usesClientId: isPattern && levels.includes('%c'),
    usesUsername: isPattern && levels.includes('%u')
  }
}

function ruleList (rules: readonly CompiledRule[]): RuleList {
  return { denies: rules.filter(rule => rule.access === 0), grants: rules.filter(rule => rule.access !== 0) }
}

/**
 * The pattern's levels with `%c` and `%u` replaced. Only a whole level is replaced, as in
 * Mosquitto 2; an id holding `/` fills as many levels as it has.
 */
function substitute (rule: CompiledRule, client: ClientIdentity): readonly string[] {
  if (!rule.usesClientId && !rule.usesUsername) return rule.levels
  const levels: string[] = []
  for (const level of rule.levels) {
    if (level === '%c') levels.push(...client.clientId.split('/'))
    else if (level === '%u' && client.username !== undefined) levels.push(...client.username.split('/'))
    else levels.push(level)
  }
  return levels
}

function hasWildcard (name: string): boolean {
  return name.includes('+') || name.includes('#')
}
