import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { ServerResponse } from 'node:http'
import { Eta } from 'eta'
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import type { Logger } from 'pino'
import { STATIC_DIRECTORY, VIEWS_DIRECTORY } from './assets.js'
import { cookieValue, SESSION_COOKIE, sessionCookie } from './auth/cookies.js'
import { csrfTokenMatches, LoginSessions, type LoginSession } from './auth/login-sessions.js'
import type { MonitorUsers } from './auth/monitor-users.js'
import { connectionQueryFrom, queryConnections, SORT_KEYS } from './connection-query.js'
import type { MonitorSource } from './monitor-source.js'
import { CHART_HEIGHT, CHART_WIDTH, trafficChart, type Chart } from './traffic-chart.js'
import { droppedTotal } from '../runtime/metrics/broker-overview.js'
import type { TrafficSample } from '../runtime/metrics/traffic-history.js'
import * as format from './view-format.js'
import { ADMIN_API_PREFIX, registerAdminApi } from './admin-api.js'
import { ConfigError } from '../runtime/config/config-error.js'
import { LOG_LEVELS_SHOWN, logFilterFrom, matchesLogFilter } from './log-filter.js'
import type { LogEntry } from '../runtime/recent-logs.js'
import { topicFilterProblem } from '../actors/router/topic-rules.js'
import { flowGraph } from './flow-graph.js'
import { payloadViews } from './topic-views.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** Who is signed in; set for every page behind the login. */
    login: LoginSession | null
  }
}

export interface MonitorAppOptions {
  readonly source: MonitorSource
  /**
   * Who may sign in. Undefined: nobody needs to, and whoever reaches the monitor is an admin;
   * the caller then listens on 127.0.0.1 only.
   */
  readonly users: MonitorUsers | undefined
  /** Mark the cookie Secure: the monitor is reached over HTTPS (a TLS-terminating proxy). */
  readonly secureCookies?: boolean
  /** Turns the admin API (`/api/v1/...`, for `troupe monitor`) on, for requests that carry it. */
  readonly adminToken?: string
  readonly log: Logger
}

/** Paths anyone may fetch: the login page, the stylesheet and script, liveness, and Prometheus' scrape. */
const PUBLIC_PATHS = ['/login', '/static/', '/healthz', '/metrics', '/favicon.ico', `${ADMIN_API_PREFIX}/`]

/** Seconds between chart redraws on a live dashboard. */
const CHART_REFRESH_SECONDS = 5

/** The tab icon: three dots, one per actor kind, in the monitor's colours. */
const FAVICON = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" fill="#111827"/><circle cx="9" cy="16" r="4" fill="#2f6fdf"/><circle cx="16" cy="16" r="4" fill="#8a5cf6"/><circle cx="23" cy="16" r="4" fill="#12a37f"/></svg>'

const STATIC_FILES: Readonly<Record<string, string>> = {
  'monitor.css': 'text/css; charset=utf-8',
  'live.js': 'text/javascript; charset=utf-8'
}

const TRAFFIC_SERIES = [
  { key: 'messagesIn', label: 'messages in', className: 'series-in' },
  { key: 'messagesOut', label: 'messages out', className: 'series-out' }
] as const
const CONNECTION_SERIES = [{ key: 'connections', label: 'connections', className: 'series-connections' }] as const

/** Log lines the Logs page lists; the live tail adds to them. */
const LOG_LINES_SHOWN = 500

/**
 * The monitor web app: pages rendered on the server with Eta, behind a login, with a little
 * script (Server-Sent Events) that keeps the numbers live. Built without listening, so tests
 * and the CLI decide where it listens.
 */
export async function buildMonitorApp (options: MonitorAppOptions): Promise<FastifyInstance> {
  const { source, users } = options
  // Live pages hold their event streams open: closing the monitor must end them, not wait for them.
  const app = Fastify({ logger: false, trustProxy: false, forceCloseConnections: true })
  const eta = new Eta({ views: VIEWS_DIRECTORY, cache: true })
  const logins = new LoginSessions()
  // Without users, one standing admin session: forms still carry its CSRF token, so another
  // site cannot post to a monitor on localhost through the operator's browser.
  const localLogin: LoginSession = { user: 'local', role: 'admin', csrfToken: randomBytes(24).toString('base64url'), expiresAt: Number.POSITIVE_INFINITY }
  const staticFiles = new Map(Object.entries(STATIC_FILES).map(([name, type]) => [name, { type, body: readFileSync(`${STATIC_DIRECTORY}/${name}`) }]))

  const render = (reply: FastifyReply, view: string, request: FastifyRequest, data: Record<string, unknown>): FastifyReply =>
    reply.type('text/html; charset=utf-8').send(eta.render(view, { ...data, format, login: request.login, loginRequired: users !== undefined, path: request.url }))

  app.decorateRequest('login', null)
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 16 * 1024 }, (_request, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)))
  })

  app.addHook('onRequest', async (request, reply) => {
    reply.header('Content-Security-Policy', "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'")
    reply.header('X-Content-Type-Options', 'nosniff')
    reply.header('Referrer-Policy', 'same-origin')
    if (PUBLIC_PATHS.some(prefix => request.url === prefix || request.url.startsWith(prefix === '/login' ? '/login?' : prefix))) return
    request.login = users === undefined ? localLogin : logins.find(cookieValue(request.headers.cookie, SESSION_COOKIE)) ?? null
    if (request.login !== null) return
    if (request.method === 'GET') return await reply.redirect(`/login?next=${encodeURIComponent(request.url)}`, 303)
    return await reply.code(401).type('text/plain').send('Sign in first: the monitor needs a login for this.')
  })

  /** A form that changes something must carry the session's CSRF token. */
  app.addHook('preHandler', async (request, reply) => {
    if (request.method !== 'POST' || request.login === null) return
    const body = request.body as Record<string, unknown> | undefined
    if (!csrfTokenMatches(request.login, body?.csrf)) {
      return await reply.code(403).type('text/plain').send('This form is out of date or came from another site: reload the page and try again.')
    }
  })

  // Its own hook checks the admin token: it is not behind the login.
  registerAdminApi(app, source, options.adminToken)

  app.get('/static/:name', async (request, reply) => {
    const file = staticFiles.get((request.params as { name: string }).name)
    if (file === undefined) return await reply.code(404).type('text/plain').send('Not found')
    return await reply.type(file.type).header('Cache-Control', 'max-age=300').send(file.body)
  })

  app.get('/healthz', async (_request, reply) => await reply.type('text/plain').send('ok'))

  app.get('/favicon.ico', async (_request, reply) => await reply.type('image/svg+xml').header('Cache-Control', 'max-age=86400').send(FAVICON))

  app.get('/metrics', async (_request, reply) => await reply.type('text/plain; version=0.0.4; charset=utf-8').send(await source.prometheus()))

  app.get('/login', async (request, reply) => {
    if (users === undefined) return await reply.redirect('/', 303)
    const next = safeNext((request.query as { next?: string }).next)
    return render(reply, 'login', request, { next, error: undefined, user: '' })
  })

  app.post('/login', async (request, reply) => {
    if (users === undefined) return await reply.redirect('/', 303)
    const body = (request.body ?? {}) as Record<string, string | undefined>
    const user = body.user ?? ''
    const next = safeNext(body.next)
    const role = await users.verify(user, body.password ?? '')
    if (role === undefined) {
      options.log.warn({ user, address: request.ip }, 'monitor login failed')
      return render(reply.code(401), 'login', request, { next, error: 'Wrong user name or password.', user })
    }
    const { token } = logins.create(user, role)
    options.log.info({ user, role, address: request.ip }, 'monitor login')
    return await reply.header('Set-Cookie', sessionCookie(token, { secure: options.secureCookies === true })).redirect(next, 303)
  })

  app.post('/logout', async (request, reply) => {
    logins.end(cookieValue(request.headers.cookie, SESSION_COOKIE))
    return await reply.header('Set-Cookie', sessionCookie('', { secure: options.secureCookies === true, maxAgeSeconds: 0 })).redirect(users === undefined ? '/' : '/login', 303)
  })

  app.get('/', async (request, reply) => {
    const samples = await source.traffic()
    return render(reply, 'dashboard', request, {
      overview: await source.overview(),
      process: await source.process(),
      latest: samples.at(-1),
      ...liveCharts(samples),
      chartWidth: CHART_WIDTH,
      chartHeight: CHART_HEIGHT
    })
  })

  app.get('/connections', async (request, reply) => {
    const query = connectionQueryFrom(request.query as Record<string, unknown>)
    const flash = (request.query as { disconnected?: string }).disconnected
    return render(reply, 'connections', request, { query, result: queryConnections(await source.connections(), query), sortKeys: SORT_KEYS, disconnected: flash })
  })

  app.get('/connections/:clientId', async (request, reply) => {
    const { clientId } = request.params as { clientId: string }
    const connection = await source.connection(clientId)
    if (connection === undefined) return render(reply.code(404), 'not-connected', request, { clientId })
    return render(reply, 'connection', request, { connection })
  })

  app.get('/connections/:clientId/inspect', async (request, reply) => {
    const { clientId } = request.params as { clientId: string }
    const inspection = await source.inspection(clientId)
    if (inspection === undefined) return render(reply.code(404), 'not-connected', request, { clientId })
    return render(reply, 'inspect', request, { inspection })
  })

  app.get('/connections/:clientId/inspect/events', async (request, reply) => {
    const { clientId } = request.params as { clientId: string }
    const stream = openEventStream(reply)
    stream.write(': inspecting\n\n')
    const stop = await source.followInspection(clientId, step => stream.write(eventData(step)))
    if (stop === undefined) {
      stream.end('event: end\ndata: {}\n\n')
      return
    }
    request.raw.once('close', stop)
  })

  app.post('/connections/:clientId/disconnect', async (request, reply) => {
    const { clientId } = request.params as { clientId: string }
    if (request.login?.role !== 'admin') return await reply.code(403).type('text/plain').send('Only an admin may disconnect clients.')
    if (!await source.disconnect(clientId)) return render(reply.code(404), 'not-connected', request, { clientId })
    options.log.info({ clientId, by: request.login.user }, 'client disconnected from the monitor')
    return await reply.redirect(`/connections?disconnected=${encodeURIComponent(clientId)}`, 303)
  })

  app.get('/topics', async (request, reply) => {
    const { prefix, view } = request.query as { prefix?: string, view?: string }
    const page = await source.topics(typeof prefix === 'string' ? prefix.replace(/\/+$/, '') : '')
    const payload = page.detail?.last?.payload ?? page.detail?.retained?.payload
    return render(reply, 'topics', request, { page, payload: payload === undefined ? undefined : payloadViews(payload), view: view === 'json' || view === 'hex' ? view : 'text' })
  })

  app.get('/flow', async (request, reply) => {
    const { filter } = request.query as { filter?: string }
    const wanted = typeof filter === 'string' && filter.trim() !== '' ? filter.trim() : '#'
    const problem = topicFilterProblem(wanted)
    if (problem !== undefined) return render(reply.code(400), 'flow', request, { filter: wanted, error: `Not a topic filter (${problem.replaceAll('-', ' ')}): use levels separated by /, + for one level and # for the rest.`, flow: undefined, graph: undefined })
    const flow = await source.flow(wanted)
    return render(reply, 'flow', request, { filter: wanted, error: undefined, flow, graph: flowGraph(flow) })
  })

  app.get('/system', async (request, reply) => render(reply, 'system', request, { system: await source.system() }))

  app.get('/logs', async (request, reply) => {
    const filter = logFilterFrom(request.query as Record<string, unknown>)
    const all = await source.logs()
    const entries = all.filter(entry => matchesLogFilter(entry, filter)).slice(-LOG_LINES_SHOWN).reverse()
    // The live tail starts after the last line the page had, so nothing logged in between is lost.
    return render(reply, 'logs', request, { filter, entries, levels: LOG_LEVELS_SHOWN, lastId: all.at(-1)?.id ?? 0 })
  })

  app.get('/logs/events', async (request, reply) => {
    const filter = logFilterFrom(request.query as Record<string, unknown>)
    const stream = openEventStream(reply)
    stream.write(': tail\n\n')
    const send = (entry: LogEntry): void => {
      if (matchesLogFilter(entry, filter)) stream.write(eventData(entry))
    }
    const after = Number((request.query as { after?: string }).after)
    if (Number.isInteger(after) && after > 0) for (const entry of await source.logs(after)) send(entry)
    const unsubscribe = source.onLog(send)
    request.raw.once('close', unsubscribe)
  })

  app.get('/configuration', async (request, reply) => {
    const { changed, error } = request.query as { changed?: string, error?: string }
    return render(reply, 'configuration', request, { settings: await source.settings(), changed, error, attempted: undefined })
  })

  app.post('/configuration', async (request, reply) => {
    if (request.login?.role !== 'admin') return await reply.code(403).type('text/plain').send('Only an admin may change settings.')
    const { name, value } = (request.body ?? {}) as { name?: string, value?: string }
    try {
      const change = await source.changeSetting(name ?? '', value ?? '', request.login.user)
      const note = 'file' in change.persisted ? `saved to ${change.persisted.file}` : change.persisted.notPersisted
      return await reply.redirect(`/configuration?changed=${encodeURIComponent(`${name ?? ''} is now ${change.value} (${note})`)}`, 303)
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error
      return render(reply.code(400), 'configuration', request, { settings: await source.settings(), changed: undefined, error: error.message, attempted: { name, value } })
    }
  })

  app.get('/events', async (request, reply) => {
    const stream = openEventStream(reply)
    let sent = 0
    const send = async (): Promise<void> => {
      const [overview, recent] = await Promise.all([source.overview(), source.traffic(1)])
      const { counters } = overview
      const live: Record<string, unknown> = {
        ...overview,
        counters: undefined,
        uptime: format.duration((overview.at - overview.startedAt) / 1000),
        messagesReceivedTotal: counters.messagesReceived,
        messagesSentTotal: counters.messagesSent,
        droppedTotal: droppedTotal(counters),
        ...recent[0]
      }
      // The charts are redrawn every few seconds: a point a second would not show at an hour's width.
      if (sent++ % CHART_REFRESH_SECONDS === 0) live.charts = liveCharts(await source.traffic())
      stream.write(eventData(live))
    }
    const sendSafely = (): void => {
      send().catch((error: unknown) => options.log.warn({ err: error }, 'the monitor could not update a live dashboard'))
    }
    sendSafely()
    const unsubscribe = source.onTraffic(sendSafely)
    request.raw.once('close', unsubscribe)
  })

  return app
}

/** The dashboard's two charts of `samples`. */
function liveCharts (samples: readonly TrafficSample[]): { traffic: Chart, connectionsChart: Chart } {
  return { traffic: trafficChart(samples, TRAFFIC_SERIES), connectionsChart: trafficChart(samples, CONNECTION_SERIES) }
}

/** Takes the response over for a stream of Server-Sent Events, which the page reads until it goes. */
function openEventStream (reply: FastifyReply): ServerResponse {
  reply.hijack()
  reply.raw.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store', Connection: 'keep-alive' })
  return reply.raw
}

/** One Server-Sent Event carrying `value` as JSON. */
function eventData (value: unknown): string {
  return `data: ${JSON.stringify(value)}\n\n`
}

/** Where to go after signing in: a path on this monitor only, never another site. */
function safeNext (next: unknown): string {
  return typeof next === 'string' && next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/login') ? next : '/'
}
