import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { ConnectionSummary } from '../../actors/connection/connection-summary.js'
import { connectionQueryFrom, PAGE_SIZE, queryConnections, SORT_KEYS, type ConnectionQuery, type SortKey } from '../../monitor/connection-query.js'

/**
 * The monitor's connections page: a search over client id, address and user name in any case,
 * an order by any column in either direction (client id breaking ties), pages of PAGE_SIZE,
 * and URL parameters that fall back to the defaults when they make no sense.
 */

const test = suite('connection query')

function row (clientId: string, fields: Partial<ConnectionSummary> = {}): ConnectionSummary {
  return {
    clientId,
    address: '127.0.0.1:50000',
    protocol: 'MQTT 3.1.1',
    username: undefined,
    state: 'connected.serving',
    keepAlive: 60,
    inflight: 0,
    queued: 0,
    subscriptions: 0,
    connectedAt: 1_700_000_000_000,
    ...fields
  }
}

function query (fields: Partial<ConnectionQuery> = {}): ConnectionQuery {
  return { search: '', sort: 'clientId', descending: false, page: 1, ...fields }
}

const ids = (rows: readonly ConnectionSummary[]): string[] => rows.map(r => r.clientId)

const DEFAULT_QUERY: ConnectionQuery = { search: '', sort: 'connectedAt', descending: true, page: 1 }

test('no parameters: newest connections first, first page, no search', () => {
  assert.equal(connectionQueryFrom({}), DEFAULT_QUERY)
})

test('good parameters are taken as given', () => {
  assert.equal(connectionQueryFrom({ q: '  sensor ', sort: 'queued', dir: 'desc', page: '3' }), { search: 'sensor', sort: 'queued', descending: true, page: 3 })
  assert.equal(connectionQueryFrom({ sort: 'connectedAt', dir: 'asc' }), { search: '', sort: 'connectedAt', descending: false, page: 1 })
  assert.equal(connectionQueryFrom({ sort: 'address' }), { search: '', sort: 'address', descending: false, page: 1 }, 'a text column sorts ascending unless asked')
})

test('an unknown sort key falls back to connection time, newest first', () => {
  for (const sort of ['password', '', 'toString', '__proto__', 42, ['clientId']]) {
    const parsed = connectionQueryFrom({ sort })
    assert.is(parsed.sort, 'connectedAt', `sort=${String(sort)}`)
    assert.is(parsed.descending, true, `sort=${String(sort)}`)
  }
})

test('a page that is not a whole number from 1 falls back to page 1', () => {
  for (const page of ['0', '-2', '1.5', 'two', '', 'Infinity', 'NaN', ['2', '3'], undefined]) {
    assert.is(connectionQueryFrom({ page }).page, 1, `page=${JSON.stringify(page)}`)
  }
  assert.is(connectionQueryFrom({ page: '12' }).page, 12)
})

test('a direction other than asc or desc falls back to the sort key\'s default direction', () => {
  for (const dir of ['sideways', '', 'DESC', ['desc']]) {
    assert.is(connectionQueryFrom({ dir }).descending, true, `connectedAt with dir=${JSON.stringify(dir)}`)
    assert.is(connectionQueryFrom({ sort: 'clientId', dir }).descending, false, `clientId with dir=${JSON.stringify(dir)}`)
  }
})

test('a search that is not text is no search; a long one is cut to 200 characters', () => {
  assert.is(connectionQueryFrom({ q: ['a', 'b'] }).search, '')
  assert.is(connectionQueryFrom({ q: 5 }).search, '')
  assert.is(connectionQueryFrom({ q: 'x'.repeat(500) }).search.length, 200)
})

const PEOPLE = [
  row('Sensor-Kitchen', { address: '10.0.0.5:40001', username: 'Alice' }),
  row('sensor-garage', { address: '10.0.0.6:40002', username: undefined }),
  row('dashboard', { address: '192.168.1.20:51000', username: 'bob' }),
  row('phone-ALICE', { address: '[::1]:6000', username: 'carol' })
]

test('search matches the client id in any case', () => {
  assert.equal(ids(queryConnections(PEOPLE, query({ search: 'SENSOR' })).rows), ['sensor-garage', 'Sensor-Kitchen'])
  assert.equal(ids(queryConnections(PEOPLE, query({ search: 'kitchen' })).rows), ['Sensor-Kitchen'])
})

test('search matches the address', () => {
  assert.equal(ids(queryConnections(PEOPLE, query({ search: '192.168.' })).rows), ['dashboard'])
  assert.equal(ids(queryConnections(PEOPLE, query({ search: '[::1]' })).rows), ['phone-ALICE'])
  assert.equal(ids(queryConnections(PEOPLE, query({ search: ':4000' })).rows), ['sensor-garage', 'Sensor-Kitchen'])
})

test('search matches the user name in any case, and a client without one is simply not matched by it', () => {
  const page = queryConnections(PEOPLE, query({ search: 'alice' }))
  assert.equal(ids(page.rows), ['phone-ALICE', 'Sensor-Kitchen'], 'Alice by user name, phone-ALICE by client id')
  assert.equal(ids(queryConnections(PEOPLE, query({ search: 'BOB' })).rows), ['dashboard'])
  assert.is(page.matching, 2)
  assert.is(page.total, 4)
})

test('a search nothing matches: no rows, one empty page', () => {
  const page = queryConnections(PEOPLE, query({ search: 'nobody', page: 4 }))
  assert.equal(page.rows, [])
  assert.is(page.matching, 0)
  assert.is(page.total, 4)
  assert.is(page.page, 1)
  assert.is(page.pages, 1)
})

/**
 * Rows whose values for every key make one unambiguous order, with ties: c-2 and c-4 share
 * every value, so only their client ids can order them.
 */
const SORTABLE = [
  row('c-4', { address: 'b-host:1', protocol: 'MQTT 3.1.1', state: 'connected.serving', keepAlive: 30, inflight: 2, queued: 5, subscriptions: 3, connectedAt: 2000 }),
  row('c-1', { address: 'c-host:1', protocol: 'MQTT 5.0', state: 'connected.closing', keepAlive: 60, inflight: 9, queued: 0, subscriptions: 10, connectedAt: 3000 }),
  row('c-3', { address: 'a-host:1', protocol: 'MQTT 3.1', state: 'awaitingConnect', keepAlive: 0, inflight: 0, queued: 100, subscriptions: 0, connectedAt: 1000 }),
  row('c-2', { address: 'b-host:1', protocol: 'MQTT 3.1.1', state: 'connected.serving', keepAlive: 30, inflight: 2, queued: 5, subscriptions: 3, connectedAt: 2000 })
]

/** The expected order, worked out by hand for each key: ascending, ties by client id. */
const ASCENDING: Readonly<Record<SortKey, readonly string[]>> = {
  clientId: ['c-1', 'c-2', 'c-3', 'c-4'],
  address: ['c-3', 'c-2', 'c-4', 'c-1'],
  protocol: ['c-3', 'c-2', 'c-4', 'c-1'],
  state: ['c-3', 'c-1', 'c-2', 'c-4'],
  keepAlive: ['c-3', 'c-2', 'c-4', 'c-1'],
  inflight: ['c-3', 'c-2', 'c-4', 'c-1'],
  queued: ['c-1', 'c-2', 'c-4', 'c-3'],
  subscriptions: ['c-3', 'c-2', 'c-4', 'c-1'],
  connectedAt: ['c-3', 'c-2', 'c-4', 'c-1']
}

/** Descending reverses the order of values, but ties stay in client id order, so a page is stable. */
const DESCENDING: Readonly<Record<SortKey, readonly string[]>> = {
  clientId: ['c-4', 'c-3', 'c-2', 'c-1'],
  address: ['c-1', 'c-2', 'c-4', 'c-3'],
  protocol: ['c-1', 'c-2', 'c-4', 'c-3'],
  state: ['c-2', 'c-4', 'c-1', 'c-3'],
  keepAlive: ['c-1', 'c-2', 'c-4', 'c-3'],
  inflight: ['c-1', 'c-2', 'c-4', 'c-3'],
  queued: ['c-3', 'c-2', 'c-4', 'c-1'],
  subscriptions: ['c-1', 'c-2', 'c-4', 'c-3'],
  connectedAt: ['c-1', 'c-2', 'c-4', 'c-3']
}

for (const sort of SORT_KEYS) {
  test(`sort by ${sort}, ascending and descending, ties broken by client id`, () => {
    assert.equal(ids(queryConnections(SORTABLE, query({ sort, descending: false })).rows), ASCENDING[sort])
    assert.equal(ids(queryConnections(SORTABLE, query({ sort, descending: true })).rows), DESCENDING[sort])
  })
}

test('numbers sort as numbers, not as text', () => {
  const rows = [row('a', { queued: 100 }), row('b', { queued: 9 }), row('c', { queued: 20 })]
  assert.equal(ids(queryConnections(rows, query({ sort: 'queued' })).rows), ['b', 'c', 'a'])
})

test('sorting does not reorder the caller\'s list', () => {
  const rows = [...SORTABLE]
  queryConnections(rows, query({ sort: 'queued', descending: true }))
  assert.equal(ids(rows), ids(SORTABLE))
})

const MANY = Array.from({ length: PAGE_SIZE * 2 + 20 }, (_, i) => row(`client-${String(i).padStart(4, '0')}`))

test('pages hold PAGE_SIZE rows each, the last one the rest', () => {
  const first = queryConnections(MANY, query({ page: 1 }))
  assert.is(first.rows.length, PAGE_SIZE)
  assert.is(first.rows[0]!.clientId, 'client-0000')
  assert.is(first.pages, 3)
  assert.is(first.matching, MANY.length)
  assert.is(first.total, MANY.length)
  const second = queryConnections(MANY, query({ page: 2 }))
  assert.is(second.rows[0]!.clientId, `client-${String(PAGE_SIZE).padStart(4, '0')}`)
  const last = queryConnections(MANY, query({ page: 3 }))
  assert.is(last.rows.length, 20)
  assert.is(last.rows.at(-1)!.clientId, `client-${String(MANY.length - 1).padStart(4, '0')}`)
})

test('a page past the end shows the last page, and says so', () => {
  const page = queryConnections(MANY, query({ page: 99 }))
  assert.is(page.page, 3)
  assert.is(page.rows.length, 20)
  const narrowed = queryConnections(MANY, query({ search: 'client-000', page: 5 }))
  assert.is(narrowed.matching, 10)
  assert.is(narrowed.pages, 1)
  assert.is(narrowed.page, 1, 'a search that shrinks the list brings a far page back to one that exists')
  assert.is(narrowed.rows.length, 10)
})

test('no connections at all: one empty page', () => {
  const page = queryConnections([], query({ page: 2 }))
  assert.equal(page, { rows: [], matching: 0, total: 0, page: 1, pages: 1 })
})

test.run()
