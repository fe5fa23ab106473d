import type { Authorizer, Permission, PublishAuthorization, ReadAuthorization, SubscribeAuthorization } from '../../../actors/connection/authorizer.js'
import type { LinkAnswer, ProviderLink } from './provider-link.js'

/**
 * What connected clients may publish and subscribe to, asked of the auth providers in order:
 * the first that allows or denies decides; when all ignore the request, `fallback` (the ACL)
 * does, or, without one, it is allowed. A provider that fails refuses. Answers from the
 * providers' caches come at once; otherwise the permission is a promise and the connection
 * holds the packet until it settles. Providers are not asked about reads: each delivery is
 * checked against `fallback` only.
 */
export class ProviderAuthorizer implements Authorizer {
  readonly mayAnswerLater = true
  private readonly publishLinks: readonly ProviderLink[]
  private readonly subscribeLinks: readonly ProviderLink[]

  constructor (links: readonly ProviderLink[], private readonly fallback: Authorizer | undefined) {
    this.publishLinks = links.filter(link => link.answers('authorizePublish'))
    this.subscribeLinks = links.filter(link => link.answers('authorizeSubscribe'))
  }

  authorizePublish (request: PublishAuthorization): Permission {
    const providerRequest = { clientId: request.clientId, username: request.username, topic: request.topic, qos: request.qos, retain: request.retain }
    const key = [request.clientId, request.username ?? '\u0001', request.topic, request.qos, request.retain ? 1 : 0].join('\0')
    return walk(this.publishLinks, 0, link => link.authorizePublish(providerRequest, key), () => this.fallback?.authorizePublish(request) ?? true)
  }

  authorizeSubscribe (request: SubscribeAuthorization): Permission {
    const providerRequest = { clientId: request.clientId, username: request.username, filter: request.filter }
    const key = [request.clientId, request.username ?? '\u0001', request.filter].join('\0')
    return walk(this.subscribeLinks, 0, link => link.authorizeSubscribe(providerRequest, key), () => this.fallback?.authorizeSubscribe(request) ?? true)
  }

  authorizeRead (request: ReadAuthorization): boolean {
    return this.fallback?.authorizeRead(request) ?? true
  }
}

/** Asks the links from `from` on until one decides, synchronously for as long as answers are cached. */
function walk (links: readonly ProviderLink[], from: number, ask: (link: ProviderLink) => LinkAnswer | Promise<LinkAnswer>, fallback: () => Permission): Permission {
  for (let index = from; index < links.length; index++) {
    const answer = ask(links[index]!)
    if (typeof answer !== 'string') {
      return answer.then(decided => decided === 'ignore' ? walk(links, index + 1, ask, fallback) : decided === 'allow')
    }
    if (answer !== 'ignore') return answer === 'allow'
  }
  return fallback()
}
