import { isUtf8 } from 'node:buffer'
import type { AuthDecision, AuthProvider, ProviderAuthenticateRequest, ProviderPublishRequest, ProviderSubscribeRequest } from './auth-provider.js'

/**
 * The built-in HTTP provider: each question is a POST of JSON to `url`,
 *
 *   {"action": "connect", "clientId", "username", "password" (or "passwordBase64" when it is
 *    not UTF-8), "address", "protocolVersion"}
 *   {"action": "publish", "clientId", "username", "topic", "qos", "retain"}
 *   {"action": "subscribe", "clientId", "username", "filter"}
 *
 * answered by 200 with {"result": "allow" | "deny" | "ignore"}, or simply 204 (ignore) or
 * 401/403 (deny). Anything else (another status, a body without a result, no answer in time)
 * is a failure, which the broker treats as a refusal. Connections to the service are kept
 * alive by Node's fetch, so a busy broker does not open one per question.
 */
export class HttpAuthProvider implements AuthProvider {
  constructor (
    private readonly url: string,
    private readonly timeoutMs: number,
    private readonly headers: Readonly<Record<string, string>> = {}
  ) {}

  readonly authenticate = async (request: ProviderAuthenticateRequest): Promise<AuthDecision> => {
    const password = request.password === undefined
      ? {}
      : isUtf8(request.password) ? { password: request.password.toString('utf8') } : { passwordBase64: request.password.toString('base64') }
    return await this.ask({ action: 'connect', clientId: request.clientId, username: request.username, ...password, address: request.address, protocolVersion: request.protocolVersion })
  }

  readonly authorizePublish = async (request: ProviderPublishRequest): Promise<AuthDecision> =>
    await this.ask({ action: 'publish', clientId: request.clientId, username: request.username, topic: request.topic, qos: request.qos, retain: request.retain })

  readonly authorizeSubscribe = async (request: ProviderSubscribeRequest): Promise<AuthDecision> =>
    await this.ask({ action: 'subscribe', clientId: request.clientId, username: request.username, filter: request.filter })

  private async ask (body: Record<string, unknown>): Promise<AuthDecision> {
    const response = await fetch(this.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...this.headers },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(this.timeoutMs)
    })
    if (response.status === 204) return 'ignore'
    if (response.status === 401 || response.status === 403) return 'deny'
    if (response.status !== 200) throw new Error(`${this.url} answered HTTP ${response.status}`)
    const answer: unknown = await response.json().catch(() => undefined)
    const result = typeof answer === 'object' && answer !== null ? (answer as { result?: unknown }).result : undefined
    if (result !== 'allow' && result !== 'deny' && result !== 'ignore') {
      throw new Error(`${this.url} answered without "result": "allow", "deny" or "ignore"`)
    }
    return result
  }
}
