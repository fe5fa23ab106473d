import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { allowAll, enforcedAuthorizer } from '../../actors/connection/authorizer.js'
import { AclAuthorizer } from '../../runtime/authorization/acl-authorizer.js'
import { AclError } from '../../runtime/authorization/acl-error.js'
import { parseAclFile } from '../../runtime/authorization/acl-file.js'
import { parseAclRuleList } from '../../runtime/authorization/acl-rule-list.js'
import { covers, intersects, matchesTopic } from '../../runtime/authorization/filter-relations.js'

/**
 * Access rules in Mosquitto's acl_file format and as YAML data, and how AclAuthorizer decides
 * with them (Mosquitto 2's order: the user's own rules, denies first, then patterns).
 */
const test = suite('acl rules')

function fileAuthorizer (text: string): AclAuthorizer {
  return new AclAuthorizer(parseAclFile(text, 'acl.conf'))
}

function throwsAclError (run: () => unknown, expected: RegExp): AclError {
  try {
    run()
  } catch (error) {
    assert.instance(error, AclError)
    assert.match((error as AclError).message, expected)
    return error as AclError
  }
  throw new Error(`expected an AclError matching ${String(expected)}`)
}

const anonymous = (topic: string, clientId = 'anon'): { clientId: string, username: undefined, topic: string } => ({ clientId, username: undefined, topic })
const as = (username: string, topic: string, clientId = `${username}-client`): { clientId: string, username: string, topic: string } => ({ clientId, username, topic })
const write = (request: { clientId: string, username: string | undefined, topic: string }): typeof request & { qos: 0, retain: false } => ({ ...request, qos: 0, retain: false })

// --- the acl_file parser ---

test('acl_file: every line kind, comments and blank lines; rules before any user line are anonymous', () => {
  const rules = parseAclFile([
    '# a comment',
    '',
    'topic read public/#',
    '   # an indented comment',
    'topic anon/readwrite',
    'user alice',
    'topic write alice/out',
    'topic readwrite alice/#',
    'topic deny alice/secret/#',
    'pattern read devices/%c/in',
    'user bob smith',
    'topic   read    spaced out/topic  ',
    'pattern deny private/%u/#'
  ].join('\n'), 'acl.conf')
  assert.equal(rules, [
    { kind: 'topic', user: undefined, access: 'read', topic: 'public/#' },
    { kind: 'topic', user: undefined, access: 'readwrite', topic: 'anon/readwrite' },
    { kind: 'topic', user: 'alice', access: 'write', topic: 'alice/out' },
    { kind: 'topic', user: 'alice', access: 'readwrite', topic: 'alice/#' },
    { kind: 'topic', user: 'alice', access: 'deny', topic: 'alice/secret/#' },
    { kind: 'pattern', access: 'read', topic: 'devices/%c/in' },
    { kind: 'topic', user: 'bob smith', access: 'read', topic: 'spaced out/topic' },
    { kind: 'pattern', access: 'deny', topic: 'private/%u/#' }
  ])
})

test('acl_file: a lone word after topic is the topic with readwrite access, as in Mosquitto ("topic read" is the topic "read")', () => {
  assert.equal(parseAclFile('topic read\r\n\uFEFF', 'acl.conf'), [{ kind: 'topic', user: undefined, access: 'readwrite', topic: 'read' }])
  assert.equal(parseAclFile('\uFEFFtopic a/b\r\n', 'acl.conf'), [{ kind: 'topic', user: undefined, access: 'readwrite', topic: 'a/b' }])
})

test('acl_file: malformed lines are refused with the file and line', () => {
  const error = throwsAclError(() => parseAclFile('topic a\nusr alice\n', '/etc/troupe/acl'), /^\/etc\/troupe\/acl:2: unknown keyword "usr"/)
  assert.is(error.source, '/etc/troupe/acl')
  assert.equal(error.position, { line: 2 })
  throwsAclError(() => parseAclFile('topic sometimes a/b', 'acl.conf'), /^acl\.conf:1: unknown access "sometimes"/)
  throwsAclError(() => parseAclFile('\n\nuser', 'acl.conf'), /^acl\.conf:3: "user" needs a user name/)
  throwsAclError(() => parseAclFile('pattern', 'acl.conf'), /^acl\.conf:1: "pattern" needs a topic/)
  throwsAclError(() => parseAclFile('topic read a/#/b', 'acl.conf'), /^acl\.conf:1: "a\/#\/b" is not a valid topic filter \(misplaced-multi-level-wildcard\)/)
  throwsAclError(() => parseAclFile('topic write a+/b', 'acl.conf'), /misplaced-single-level-wildcard/)
})

test('acl_file: a file that cannot be read is an AclError naming it', async () => {
  try {
    await AclAuthorizer.fromFile('/nonexistent/troupe/acl.conf')
    assert.unreachable('the file does not exist')
  } catch (error) {
    assert.instance(error, AclError)
    assert.match((error as AclError).message, /^\/nonexistent\/troupe\/acl\.conf: cannot read the ACL file: ENOENT/)
  }
})

// --- the YAML rule list parser ---

test('YAML rules: the same rule model as the file (no user: anonymous; pattern: true applies to every client)', () => {
  const fromYaml = parseAclRuleList([
    { access: 'read', topic: 'public/#' },
    { user: 'alice', access: 'readwrite', topic: 'alice/#' },
    { user: 'alice', access: 'deny', topic: 'alice/secret/#' },
    { pattern: true, access: 'write', topic: 'devices/%c/state' },
    { pattern: false, user: 'bob', access: 'write', topic: 'bob/out' }
  ], 'acl')
  const fromFile = parseAclFile('topic read public/#\nuser alice\ntopic readwrite alice/#\ntopic deny alice/secret/#\npattern write devices/%c/state\nuser bob\ntopic write bob/out\n', 'acl.conf')
  assert.equal(fromYaml, fromFile)
})

test('YAML rules: malformed entries are refused with the key and entry index', () => {
  throwsAclError(() => parseAclRuleList({ access: 'read', topic: 'a' }, 'acl'), /^acl: expected a list of rules/)
  const error = throwsAclError(() => parseAclRuleList([{ access: 'read', topic: 'a' }, { topic: 'b' }], 'acl'), /^acl\[1\]: access must be one of read, write, readwrite, deny, not undefined/)
  assert.equal(error.position, { index: 1 })
  throwsAclError(() => parseAclRuleList([{ access: 'all', topic: 'b' }], 'acl'), /^acl\[0\]: access must be one of/)
  throwsAclError(() => parseAclRuleList([{ access: 'read' }], 'acl'), /^acl\[0\]: topic must be a topic filter string/)
  throwsAclError(() => parseAclRuleList([{ access: 'read', topic: '#/a' }], 'acl'), /^acl\[0\]: "#\/a" is not a valid topic filter/)
  throwsAclError(() => parseAclRuleList([{ users: 'alice', access: 'read', topic: 'a' }], 'acl'), /^acl\[0\]: unknown key "users"/)
  throwsAclError(() => parseAclRuleList([{ user: 'alice', pattern: true, access: 'read', topic: 'a/%c' }], 'acl'), /^acl\[0\]: a pattern applies to every client: remove "user"/)
  throwsAclError(() => parseAclRuleList([{ pattern: 'yes', access: 'read', topic: 'a' }], 'acl'), /pattern must be true or false/)
  throwsAclError(() => parseAclRuleList([{ user: 7, access: 'read', topic: 'a' }], 'acl'), /user must be a string/)
  throwsAclError(() => parseAclRuleList(['topic read a'], 'acl'), /^acl\[0\]: a rule is a mapping/)
})

// --- deciding ---

test('read, write and readwrite grant what they say, and nothing else is allowed', () => {
  const acl = fileAuthorizer('user alice\ntopic read in/#\ntopic write out/#\ntopic readwrite both/+\n')
  assert.ok(acl.authorizeRead(as('alice', 'in/x')))
  assert.not.ok(acl.authorizePublish(write(as('alice', 'in/x'))))
  assert.ok(acl.authorizePublish(write(as('alice', 'out/x/y'))))
  assert.not.ok(acl.authorizeRead(as('alice', 'out/x')))
  assert.ok(acl.authorizeRead(as('alice', 'both/x')))
  assert.ok(acl.authorizePublish(write(as('alice', 'both/x'))))
  assert.not.ok(acl.authorizeRead(as('alice', 'both/x/y')), '+ is one level')
  assert.not.ok(acl.authorizeRead(as('alice', 'elsewhere')), 'what no rule grants is refused')
  assert.not.ok(acl.authorizePublish(write(as('bob', 'out/x'))), 'the rules are alice\'s only')
})

test('rules before any user line apply to anonymous clients only; a user with no section of its own gets only the patterns', () => {
  const acl = fileAuthorizer('topic readwrite public/#\nuser alice\ntopic readwrite alice/#\npattern read home/%u/#\n')
  assert.ok(acl.authorizePublish(write(anonymous('public/a'))))
  assert.not.ok(acl.authorizePublish(write(as('alice', 'public/a'))), 'alice is not anonymous')
  assert.not.ok(acl.authorizeRead(anonymous('alice/a')))
  assert.ok(acl.authorizeRead(as('carol', 'home/carol/x')), 'carol has no section: patterns still apply')
  assert.not.ok(acl.authorizeRead(as('carol', 'public/a')))
})

test('a deny wins over the grants of its list, wherever it is written', () => {
  const acl = fileAuthorizer('user alice\ntopic readwrite alice/#\ntopic deny alice/secret/#\ntopic deny +/private\n')
  assert.ok(acl.authorizePublish(write(as('alice', 'alice/open'))))
  assert.not.ok(acl.authorizePublish(write(as('alice', 'alice/secret/x'))))
  assert.not.ok(acl.authorizeRead(as('alice', 'alice/secret')), '# also matches the parent level')
  assert.not.ok(acl.authorizeRead(as('alice', 'alice/private')))
  const denyFirst = fileAuthorizer('user alice\ntopic deny alice/secret\ntopic readwrite alice/#\n')
  assert.not.ok(denyFirst.authorizeRead(as('alice', 'alice/secret')))
})

test('patterns: %c and %u stand for whole levels; %u patterns skip anonymous clients; patterns apply to every user', () => {
  const acl = fileAuthorizer('user alice\ntopic read news/#\npattern readwrite devices/%c/#\npattern write users/%u/status\npattern read mixed/%u/%c\npattern read not%c/x\n')
  assert.ok(acl.authorizePublish(write(as('alice', 'devices/dev-1/temp', 'dev-1'))))
  assert.not.ok(acl.authorizePublish(write(as('alice', 'devices/dev-2/temp', 'dev-1'))), 'another client\'s level')
  assert.ok(acl.authorizePublish(write(as('bob', 'users/bob/status'))), 'bob has no section, the pattern applies to him')
  assert.not.ok(acl.authorizePublish(write(as('bob', 'users/alice/status'))))
  assert.ok(acl.authorizeRead(as('bob', 'mixed/bob/bob-client')))
  assert.ok(acl.authorizePublish(write(anonymous('devices/anon/x', 'anon'))), '%c applies to anonymous clients')
  assert.not.ok(acl.authorizePublish(write(anonymous('users/%u/status'))), '%u patterns do not apply to anonymous clients')
  assert.not.ok(acl.authorizeRead(as('bob', 'notbob-client/x')), 'only a whole level is replaced')
  assert.ok(acl.authorizeRead(as('bob', 'devices/a/b/c', 'a/b')), 'an id with / fills as many levels, as in Mosquitto')
})

test('patterns: a client id or user name holding + or # is refused everything once there are patterns', () => {
  const acl = fileAuthorizer('topic readwrite open/#\nuser alice\ntopic readwrite open/#\npattern readwrite devices/%c/#\n')
  assert.not.ok(acl.authorizePublish(write(anonymous('devices/+/x', '+'))))
  assert.not.ok(acl.authorizePublish(write(anonymous('devices/a/x', '#'))))
  assert.ok(acl.authorizePublish(write(anonymous('open/a', '+'))), 'its own topic rules decided first (Mosquitto\'s order)')
  assert.not.ok(acl.authorizeRead(as('ev+l', 'devices/ev-client/x', 'ev-client')))
})

test('a user\'s topic grant is checked before patterns, so a pattern deny does not take it back (Mosquitto\'s order)', () => {
  const acl = fileAuthorizer('user alice\ntopic readwrite shared/#\npattern deny shared/%u/#\npattern readwrite shared/#\n')
  assert.ok(acl.authorizePublish(write(as('alice', 'shared/alice/x'))), 'alice\'s own grant decides')
  assert.not.ok(acl.authorizePublish(write(as('bob', 'shared/bob/x'))), 'for bob only the patterns decide: deny first')
  assert.ok(acl.authorizePublish(write(as('bob', 'shared/alice/x'))))
})

test('[MQTT-4.7.2-1] a topic starting with $ is only granted by a rule starting with $', () => {
  const acl = fileAuthorizer('topic readwrite #\ntopic read +/broker/#\nuser monitor\ntopic read $SYS/#\n')
  assert.ok(acl.authorizeRead(anonymous('a/b')))
  assert.not.ok(acl.authorizeRead(anonymous('$SYS/broker/uptime')))
  assert.ok(acl.authorizeRead(as('monitor', '$SYS/broker/uptime')))
  assert.not.ok(acl.authorizeSubscribe({ clientId: 'a', username: undefined, filter: '$SYS/#' }))
  assert.ok(acl.authorizeSubscribe({ clientId: 'm', username: 'monitor', filter: '$SYS/broker/+' }))
})

test('no rules at all: everything is refused (an empty acl_file, as in Mosquitto)', () => {
  const acl = fileAuthorizer('# nothing yet\n')
  assert.not.ok(acl.authorizeRead(anonymous('a')))
  assert.not.ok(acl.authorizePublish(write(as('alice', 'a'))))
  assert.not.ok(acl.authorizeSubscribe({ clientId: 'c', username: undefined, filter: '#' }))
})

test('subscribe: granted when a read grant overlaps the filter, refused when nothing could come through it', () => {
  const acl = fileAuthorizer('user alice\ntopic read sensors/+/temp\ntopic write commands/#\ntopic readwrite alice/#\ntopic deny alice/secret/#\npattern read devices/%c/#\n')
  const subscribe = (filter: string, clientId = 'dev-1'): boolean => acl.authorizeSubscribe({ clientId, username: 'alice', filter })
  assert.ok(subscribe('sensors/kitchen/temp'))
  assert.ok(subscribe('sensors/#'), 'wider than the grant: granted, each message is checked on delivery')
  assert.ok(subscribe('#'))
  assert.ok(subscribe('+/+/temp'))
  assert.not.ok(subscribe('sensors/kitchen/humidity'))
  assert.not.ok(subscribe('commands/#'), 'write access does not let a client read')
  assert.ok(subscribe('alice/+'))
  assert.not.ok(subscribe('alice/secret/#'), 'a deny covering the whole filter')
  assert.not.ok(subscribe('alice/secret/+/x'))
  assert.ok(subscribe('devices/dev-1/#'), 'pattern grant with the client id')
  assert.not.ok(subscribe('devices/dev-2/#', 'dev-1'))
  assert.not.ok(acl.authorizeSubscribe({ clientId: 'x', username: undefined, filter: 'sensors/#' }), 'anonymous has no grant here')
})

test('enforcedAuthorizer: allowAll (and none) are skipped; rule sets are enforced', () => {
  assert.is(enforcedAuthorizer(undefined), undefined)
  assert.is(enforcedAuthorizer(allowAll), undefined)
  const acl = fileAuthorizer('topic a')
  assert.is(enforcedAuthorizer(acl), acl)
  assert.ok(allowAll.authorizePublish(write(anonymous('$SYS/x'))) && allowAll.authorizeSubscribe({ clientId: 'c', username: undefined, filter: '#' }) && allowAll.authorizeRead(anonymous('x')))
})

// --- filter relations ---

const levels = (filter: string): string[] => filter.split('/')

test('filter relations: matches, covers and intersects, $ topics apart', () => {
  const cases: Array<[string, string, boolean]> = [
    ['a/#', 'a', true], ['a/+', 'a/b', true], ['a/+', 'a/b/c', false], ['#', '$SYS/x', false], ['$SYS/#', '$SYS/x', true], ['+/b', '$x/b', false]
  ]
  for (const [filter, topic, expected] of cases) assert.is(matchesTopic(levels(filter), levels(topic)), expected, `${filter} matches ${topic}`)
  const coverCases: Array<[string, string, boolean]> = [
    ['a/#', 'a/b/+', true], ['a/#', 'a/#', true], ['a/#', 'a', true], ['a/+', 'a/#', false], ['a/+', 'a/+', true], ['a/+', 'a/b', true],
    ['a/b', 'a/+', false], ['#', '$SYS/#', false], ['$SYS/#', '$SYS/a', true], ['a/+/c', 'a/b/c', true], ['a', 'a/#', false], ['+', '+/#', false]
  ]
  for (const [outer, inner, expected] of coverCases) assert.is(covers(levels(outer), levels(inner)), expected, `${outer} covers ${inner}`)
  const meetCases: Array<[string, string, boolean]> = [
    ['a/+/c', '+/b/#', true], ['a/b', 'a/c', false], ['a/#', 'a', true], ['a', 'a/#', true], ['a/b', 'a', false], ['#', '$SYS/a', false],
    ['+/a', '$SYS/a', false], ['$SYS/#', '$SYS/+', true], ['#', '+', true], ['a/+', 'a/b/c', false]
  ]
  for (const [a, b, expected] of meetCases) {
    assert.is(intersects(levels(a), levels(b)), expected, `${a} meets ${b}`)
    assert.is(intersects(levels(b), levels(a)), expected, `${b} meets ${a}`)
  }
})

test.run()
