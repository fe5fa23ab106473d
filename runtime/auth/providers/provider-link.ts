import type { AuthDecision, AuthProvider, ProviderAuthenticateRequest, ProviderPublishRequest, ProviderSubscribeRequest } from './auth-provider.js'
import { DecisionCache } from './decision-cache.js'

/** One of the three questions a provider may answer. */
export type ProviderCheck = 'authenticate' | 'authorizePublish' | 'authorizeSubscribe'

/** A decision, or 'failed' when the provider threw, answered nonsense or took too long. */
export type LinkAnswer = AuthDecision | 'failed'

/** How the broker calls one provider. */
export interface ProviderLinkSettings {
  /** For log lines: the module path or the URL. */
  readonly name: string
  /** How long an answer may take before it counts as failed. */
  readonly timeoutMs: number
  /** How long an answer is reused for the same request; 0 asks every time. */
  readonly cacheSeconds: number
}

const DECISIONS: ReadonlySet<unknown> = new Set(['allow', 'deny', 'ignore'])

/**
 * One provider in the chain: asks it with a timeout, turns whatever goes wrong into 'failed'
 * (reported once through `onFailure`), and remembers answers for `cacheSeconds`. An answer
 * from the cache comes at once, so the data path only waits when the provider is asked.
 */
export class ProviderLink {
  private readonly cache: DecisionCache

  constructor (
    readonly provider: AuthProvider,
    readonly settings: ProviderLinkSettings,
    private readonly onFailure: (link: ProviderLink, check: ProviderCheck, problem: string) => void
  ) {
    this.cache = new DecisionCache(settings.cacheSeconds * 1000)
  }

  answers (check: ProviderCheck): boolean {
    return typeof this.provider[check] === 'function'
  }

  authenticate (request: ProviderAuthenticateRequest, key: string): LinkAnswer | Promise<LinkAnswer> {
    const ask = this.provider.authenticate
    return ask === undefined ? 'ignore' : this.ask('authenticate', key, () => ask(request))
  }

  authorizePublish (request: ProviderPublishRequest, key: string): LinkAnswer | Promise<LinkAnswer> {
    const ask = this.provider.authorizePublish
    return ask === undefined ? 'ignore' : this.ask('authorizePublish', key, () => ask(request))
  }

  authorizeSubscribe (request: ProviderSubscribeRequest, key: string): LinkAnswer | Promise<LinkAnswer> {
    const ask = this.provider.authorizeSubscribe
    return ask === undefined ? 'ignore' : this.ask('authorizeSubscribe', key, () => ask(request))
  }

  private ask (check: ProviderCheck, key: string, call: () => Promise<AuthDecision | undefined> | AuthDecision | undefined): LinkAnswer | Promise<LinkAnswer> {
    const cacheKey = `${check}\0${key}`
    const cached = this.cache.get(cacheKey)
    if (cached !== undefined) return cached
    let timer: NodeJS.Timeout | undefined
    const timedOut = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${this.settings.timeoutMs} ms`)), this.settings.timeoutMs)
    })
    return Promise.race([Promise.resolve().then(call), timedOut]).then(
      answer => {
        const decision = answer ?? 'ignore'
        if (!DECISIONS.has(decision)) return this.failed(check, `answered ${JSON.stringify(answer)}, expected 'allow', 'deny' or 'ignore'`)
        this.cache.set(cacheKey, decision)
        return decision
      },
      (error: unknown) => this.failed(check, error instanceof Error ? error.message : String(error))
    ).finally(() => clearTimeout(timer))
  }

  private failed (check: ProviderCheck, problem: string): 'failed' {
    this.onFailure(this, check, problem)
    return 'failed'
  }
}
