import type { ConnectionSummary } from '../actors/connection/connection-summary.js'

export const SORT_KEYS = ['clientId', 'address', 'protocol', 'state', 'keepAlive', 'inflight', 'queued', 'subscriptions', 'connectedAt'] as const
export type SortKey = typeof SORT_KEYS[number]

export const PAGE_SIZE = 50

/** What the connections page was asked for: a search, an order and a page. */
export interface ConnectionQuery {
  readonly search: string
  readonly sort: SortKey
  readonly descending: boolean
  /** From 1. */
  readonly page: number
}

/** One page of connections and where it lies in the whole. */
export interface ConnectionPage {
  readonly rows: readonly ConnectionSummary[]
  /** How many match the search. */
  readonly matching: number
  readonly total: number
  readonly page: number
  readonly pages: number
}

/** Reads a query from the page's URL parameters; anything unexpected falls back to the default. */
export function connectionQueryFrom (params: Readonly<Record<string, unknown>>): ConnectionQuery {
  const sort = SORT_KEYS.includes(params.sort as SortKey) ? params.sort as SortKey : 'connectedAt'
  const page = Number(params.page)
  return {
    search: typeof params.q === 'string' ? params.q.trim().slice(0, 200) : '',
    sort,
    descending: params.dir === 'desc' ? true : params.dir === 'asc' ? false : sort === 'connectedAt',
    page: Number.isInteger(page) && page >= 1 ? page : 1
  }
}

/**
 * The page of `connections` the query asks for: those whose client id, address or user name
 * contain the search (any case), in order, PAGE_SIZE at a time. Sorting 10,000 summaries
 * takes a few milliseconds, so every request sorts afresh and the page is always current.
 */
export function queryConnections (connections: readonly ConnectionSummary[], query: ConnectionQuery): ConnectionPage {
  const needle = query.search.toLowerCase()
  const matching = needle === ''
    ? [...connections]
    : connections.filter(row => row.clientId.toLowerCase().includes(needle) || row.address.toLowerCase().includes(needle) || (row.username?.toLowerCase().includes(needle) ?? false))
  const direction = query.descending ? -1 : 1
  const key = query.sort
  matching.sort((a, b) => {
    const left = a[key]
    const right = b[key]
    const order = typeof left === 'number' && typeof right === 'number' ? left - right : String(left).localeCompare(String(right))
    return order !== 0 ? order * direction : a.clientId.localeCompare(b.clientId)
  })
  const pages = Math.max(1, Math.ceil(matching.length / PAGE_SIZE))
  const page = Math.min(query.page, pages)
  return { rows: matching.slice((page - 1) * PAGE_SIZE, page * PAGE_SIZE), matching: matching.length, total: connections.length, page, pages }
}
