import { timingSafeEqual } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { ConfigError } from '../runtime/config/config-error.js'
import type { MonitorSource } from './monitor-source.js'
import { toWire } from './wire-format.js'

/** Where the admin API lives on the monitor's port. */
export const ADMIN_API_PREFIX = '/api/v1'

/**
 * The broker's admin API: what a monitor in another process (`troupe monitor`) reads and does,
 * as JSON, each route one method of MonitorSource. Every request carries the admin token
 * (`Authorization: Bearer TOKEN`, compared in constant time); without a token configured the
 * API is off. It is as powerful as an admin of the monitor: keep the token secret and the
 * port private.
 */
export function registerAdminApi (app: FastifyInstance, source: MonitorSource, token: string | undefined): void {
  const expected = token === undefined ? undefined : Buffer.from(token)
  app.addHook('onRequest', async (request, reply) => {
    if (!request.url.startsWith(`${ADMIN_API_PREFIX}/`)) return
    if (expected === undefined) return await reply.code(404).type('text/plain').send('The admin API is off: start the broker with monitor-admin-token to use it.')
    const given = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1]
    const sent = given === undefined ? undefined : Buffer.from(given)
    if (sent === undefined || sent.length !== expected.length || !timingSafeEqual(sent, expected)) {
      return await reply.code(401).header('WWW-Authenticate', 'Bearer').type('text/plain').send('Wrong or missing admin token (Authorization: Bearer TOKEN).')
    }
  })
  const json = (reply: FastifyReply, value: unknown): FastifyReply => reply.type('application/json').send(JSON.stringify(toWire(value)))
  const param = (request: FastifyRequest, name: string): string => (request.params as Record<string, string>)[name] ?? ''
  const query = (request: FastifyRequest, name: string): string | undefined => (request.query as Record<string, string | undefined>)[name]
  const at = (path: string): string => `${ADMIN_API_PREFIX}${path}`

  app.get(at('/overview'), async (_request, reply) => json(reply, await source.overview()))
  app.get(at('/process'), async (_request, reply) => json(reply, await source.process()))
  app.get(at('/traffic'), async (request, reply) => json(reply, await source.traffic(optionalNumber(query(request, 'limit')))))
  app.get(at('/connections'), async (_request, reply) => json(reply, await source.connections()))
  app.get(at('/connections/:clientId'), async (request, reply) => json(reply, await source.connection(param(request, 'clientId')) ?? null))
  app.post(at('/connections/:clientId/disconnect'), async (request, reply) => json(reply, { disconnected: await source.disconnect(param(request, 'clientId')) }))
  app.get(at('/inspection/:clientId'), async (request, reply) => json(reply, await source.inspection(param(request, 'clientId')) ?? null))
  app.get(at('/system'), async (_request, reply) => json(reply, await source.system()))
  app.get(at('/topics'), async (request, reply) => json(reply, await source.topics(query(request, 'prefix') ?? '')))
  app.get(at('/flow'), async (request, reply) => json(reply, await source.flow(query(request, 'filter') ?? '#')))
  app.get(at('/logs'), async (request, reply) => json(reply, await source.logs(optionalNumber(query(request, 'after')))))
  app.get(at('/settings'), async (_request, reply) => json(reply, await source.settings()))
  app.post(at('/settings'), async (request, reply) => {
    const { name, value, by } = (request.body ?? {}) as { name?: string, value?: string, by?: string }
    try {
      return json(reply, await source.changeSetting(name ?? '', value ?? '', by ?? 'admin API'))
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error
      return json(reply.code(400), { error: error.message })
    }
  })
  app.get(at('/metrics'), async (_request, reply) => await reply.type('text/plain; version=0.0.4; charset=utf-8').send(await source.prometheus()))
}

function optionalNumber (text: string | undefined): number | undefined {
  const value = Number(text)
  return text === undefined || !Number.isFinite(value) ? undefined : value
}
