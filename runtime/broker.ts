import { createHash, randomBytes } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import type { Logger } from 'pino'
import { createActor } from 'xstate'
import type { AuthMethod } from '../actors/connection/auth-methods/auth-method.js'
import { ScramCredentialsFile } from '../actors/connection/auth-methods/scram-credentials-file.js'
import { SCRAM_SHA_256, ScramSha256 } from '../actors/connection/auth-methods/scram-sha-256.js'
import { allowAnonymous, type Authenticator } from '../actors/connection/authenticator.js'
import type { Authorizer } from '../actors/connection/authorizer.js'
import type { BrokerServices, ConnectionSettings, TrafficCounters } from '../actors/connection/broker-services.js'
import type { ClientStream, TransportContext } from '../actors/connection/client-stream.js'
import { Connection } from '../actors/connection/connection.js'
import { KeepAliveSweeper } from '../actors/connection/keep-alive.js'
import { connectionSupervisorMachine, type ConnectionSupervisor } from '../actors/connection/connection-supervisor.machine.js'
import { createMessage, type Message } from '../actors/router/message.js'
import { Router } from '../actors/router/router.js'
import { routerMachine } from '../actors/router/router.machine.js'
import { SessionRegistry } from '../actors/session/session-registry.js'
import type { DropReason, Session } from '../actors/session/session.js'
import type { Delivery } from '../actors/session/delivery.js'
import { LevelStore } from '../persistence/level-store.js'
import { MemoryStore } from '../persistence/memory-store.js'
import { GroupCommit } from '../persistence/group-commit.js'
import { persistenceMachine, type PersistenceActor } from '../persistence/persistence.machine.js'
import { heldOf, sessionRecordOf } from '../persistence/session-record.js'
import type { Store, StoreOperation } from '../persistence/store.js'
import { StoreJournal } from '../persistence/store-journal.js'
import { authenticatorFromConfig, authorizerFromConfig } from './security-from-config.js'
import { FailedLogins } from '../actors/connection/failed-logins.js'
import type { AuthProvider } from './auth/providers/auth-provider.js'
import { loadAuthProviders } from './auth/providers/load-auth-providers.js'
import { ProviderAuthenticator } from './auth/providers/provider-authenticator.js'
import { ProviderAuthorizer } from './auth/providers/provider-authorizer.js'
import type { BrokerConfig, OptionKey } from './config/options.js'
import { resolveListeners, type ListenerSpec } from './config/resolve-listeners.js'
import { subscribeDeniedCode } from './config/subscribe-denied-reason.js'
import { bindError } from './listeners/bind-error.js'
import { createListener } from './listeners/create-listener.js'
import type { BoundListener, Listener } from './listeners/listener.js'
import { createTrafficCounters } from './metrics/traffic-counters.js'
import type { LimitContext, LimitKind } from '../actors/connection/limits/limit-kind.js'
import { clientAddressOf } from '../actors/connection/client-address.js'
import { ConnectionAdmission } from './limits/connection-admission.js'
import { LimitReporter } from './limits/limit-reporter.js'
import { MemoryWatermark, watermarkBytes } from './limits/memory-watermark.js'
import { BrokerMetrics } from './metrics/broker-metrics.js'
import { MachineInspector } from './machine-inspector.js'
import { isSysTopic } from '../actors/connection/sys-topics.js'
import { SysTopicsPublisher } from './metrics/sys-topics-publisher.js'
import { troupeVersion } from './troupe-version.js'

/** The settings `Broker.applySetting` can change while the broker runs. */
export const RUNTIME_SETTINGS: ReadonlySet<OptionKey> = new Set<OptionKey>(['logLevel', 'maxKeepalive', 'connectTimeout', 'maxClientIdLength', 'maxTopicLength', 'maxTopicLevels', 'maxSubscriptions'])

export interface BrokerOptions {
  readonly config: BrokerConfig
  readonly log: Logger
  readonly store?: Store
  readonly authenticator?: Authenticator
  /** What each client may publish, subscribe to and read; without it, everything is allowed. */
  readonly authorizer?: Authorizer
  /**
   * MQTT 5 enhanced authentication methods to offer. With `config.scramUsers` set, SCRAM-SHA-256
   * is added with the users of that file (and must not be given here as well).
   */
  readonly authMethods?: readonly AuthMethod[]
}

/**
 * The whole broker in one process: the router and persistence actors, the session registry,
 * a connection actor per client, and the listeners that feed them.
 */
export class Broker implements BrokerServices {
  readonly router: Router
  readonly sessions: SessionRegistry
  /** Read where they are used (per CONNECT, per SUBSCRIBE, ...), so that a change at run time applies from the next use. */
  readonly settings: Mutable<ConnectionSettings>
  readonly authenticator: Authenticator
  readonly authorizer: Authorizer | undefined
  readonly authMethods: ReadonlyMap<string, AuthMethod>
  readonly failedLogins: FailedLogins
  readonly counters: TrafficCounters = createTrafficCounters()
  /** Whether a new socket may become a connection: max-connections, per address, rate, memory. */
  readonly admission: ConnectionAdmission
  readonly memory: MemoryWatermark
  private readonly limits: LimitReporter
  readonly log: Logger
  readonly connections = new Set<Connection>()
  readonly persistence: PersistenceActor
  /** Where every store write goes: one batch per tick. */
  private readonly commit: GroupCommit
  readonly supervisor: ConnectionSupervisor
  /** Dev mode's state-machine inspector (`inspect`); undefined, and free, otherwise. */
  readonly inspector: MachineInspector | undefined
  readonly keepAlive = new KeepAliveSweeper()
  readonly startedAt = Date.now()
  /** The broker's numbers, sampled once a second, for $SYS, /metrics and the monitor. */
  readonly metrics: BrokerMetrics
  private readonly sysTopics: SysTopicsPublisher
  private readonly store: Store
  private readonly listeners: ReadonlyArray<{ readonly spec: ListenerSpec, readonly listener: Listener }>
  private bound: BoundListener[] = []
  /** Auth providers to close at shutdown. */
  private providers: readonly AuthProvider[] = []
  private closing: Promise<void> | undefined

  private constructor (readonly config: BrokerConfig, options: BrokerOptions) {
    this.log = options.log
    this.store = options.store ?? (config.storage === 'level'
      ? new LevelStore({ directory: config.dataDir, durability: config.durability })
      : new MemoryStore())
    this.authenticator = options.authenticator ?? allowAnonymous
    this.authorizer = options.authorizer
    this.authMethods = new Map((options.authMethods ?? []).map(method => [method.name, method]))
    this.failedLogins = new FailedLogins({ perMinute: config.failedLoginLimit, banSeconds: config.failedLoginBan })
    this.settings = {
      maxKeepalive: config.maxKeepalive,
      maxPacketSize: config.maxPacketSize,
      connectTimeoutMs: config.connectTimeout * 1000,
      outboxHighWaterMark: 1024 * 1024,
      receiveMaximum: config.maxInflight,
      maxSessionExpiry: config.maxSessionExpiry,
      maxTopicAlias: config.maxTopicAlias,
      subscribeDeniedReason: subscribeDeniedCode(config.subscribeDeniedReason),
      maxClientIdLength: config.maxClientIdLength,
      topicLimits: { maxLength: config.maxTopicLength, maxLevels: config.maxTopicLevels },
      maxSubscriptions: config.maxSubscriptions,
      maxMessageRate: config.maxMessageRate,
      maxBandwidth: config.maxBandwidth
    }
    this.limits = new LimitReporter(this.counters, this.log)
    this.memory = new MemoryWatermark(watermarkBytes(config.memoryWatermark), this.log)
    this.admission = new ConnectionAdmission(config, () => this.memory.overloaded)
    this.persistence = createActor(persistenceMachine, { input: { store: this.store } })
    this.commit = new GroupCommit(this.persistence, (error, operations) => {
      this.log.error({ err: error, operations, store: this.store.kind }, 'store write failed: the acknowledgements that waited for it were refused')
    }, seconds => this.metrics.storeBatches.observe(seconds))
    this.inspector = config.inspect ? new MachineInspector() : undefined
    // Connection actors join the supervisor's actor system, so inspecting it inspects them all.
    this.supervisor = createActor(connectionSupervisorMachine, { input: { log: this.log }, inspect: this.inspector?.observe })
    this.router = new Router(createActor(routerMachine, {
      input: {
        onRetainedChange: (topic, message) => {
          // $SYS values describe this process only, and it publishes them afresh at start.
          if (isSysTopic(topic)) return
          this.write(message === undefined ? { type: 'retained.delete', topic } : { type: 'retained.put', message })
        }
      }
    }))
    this.sessions = new SessionRegistry({
      limits: { maxInflight: config.maxInflight, maxQueued: config.maxQueued, maxQueuedBytes: config.maxQueuedBytes },
      observer: { dropped: (session, delivery, reason) => this.onDropped(session, delivery, reason) },
      onDiscard: session => this.onSessionDiscarded(session),
      publishWill: will => {
        this.log.info({ clientId: will.origin, topic: will.topic }, 'publishing delayed will')
        this.router.publish({ ...will, receivedAt: Date.now() })
      },
      // With a store that forgets everything at exit, recording each message would only cost time.
      journal: this.store.durable ? new StoreJournal(operation => this.write(operation)) : undefined,
      saved: session => this.saveSession(session.clientId)
    })
    this.metrics = new BrokerMetrics(this)
    this.sysTopics = new SysTopicsPublisher(this.router, this.metrics, troupeVersion(), config.sysInterval)
    // Built here so that an unreadable certificate stops the start before the store is opened.
    this.listeners = resolveListeners(config).map(spec => ({
      spec,
      listener: createListener(spec, {
        onClient: (stream, transport) => this.accept(stream, transport),
        onRefused: (address, reason) => this.log.info({ listener: spec.type, address, reason }, 'client refused by the listener')
      })
    }))
  }

  /**
   * Reads the SCRAM credentials, password and ACL files if configured, opens the store,
   * restores what it holds, and starts listening. A file that cannot be read or has a bad line
   * rejects (ScramCredentialsFileError, PasswordFileError, AclError) before anything is opened.
   */
  static async start (options: BrokerOptions): Promise<Broker> {
    const scram = options.config.scramUsers === undefined ? undefined : await ScramCredentialsFile.read(options.config.scramUsers)
    if (scram !== undefined && options.authMethods?.some(method => method.name === SCRAM_SHA_256) === true) {
      throw new Error(`${SCRAM_SHA_256} is given both in authMethods and as config.scramUsers; give one of them`)
    }
    const authMethods = scram === undefined ? options.authMethods : [...(options.authMethods ?? []), scramFromFile(scram)]
    let authenticator = options.authenticator ?? await authenticatorFromConfig(options.config)
    let authorizer = options.authorizer ?? await authorizerFromConfig(options.config)
    // Providers first: the first that allows or denies decides, the files only what they leave.
    const links = await loadAuthProviders(options.config.authProviders, options.log)
    if (links.some(link => link.answers('authenticate'))) authenticator = new ProviderAuthenticator(links, authenticator ?? allowAnonymous)
    if (links.some(link => link.answers('authorizePublish') || link.answers('authorizeSubscribe'))) authorizer = new ProviderAuthorizer(links, authorizer)
    const broker = new Broker(options.config, { ...options, authMethods, authenticator, authorizer })
    broker.providers = links.map(link => link.provider)
    if (scram !== undefined) {
      const users = scram.users.size
      broker.log[users === 0 ? 'warn' : 'info']({ file: scram.file, users }, users === 0 ? 'SCRAM-SHA-256 credentials file has no users: every SCRAM login will fail' : 'SCRAM-SHA-256 enabled')
    }
    await broker.store.open()
    broker.persistence.start()
    broker.supervisor.start()
    broker.router.actor.start()
    await broker.restore()
    broker.memory.start()
    broker.metrics.start()
    broker.sysTopics.start()
    await broker.listen()
    return broker
  }

  /**
   * Applies a new value of a setting that may change while the broker runs, from its next use
   * on; false for a setting that is only read at start. What the monitor's Configuration page
   * changes goes through here.
   */
  applySetting (key: OptionKey, value: unknown): boolean {
    const settings = this.settings
    switch (key) {
      case 'logLevel': this.log.level = value as string; return true
      case 'maxKeepalive': settings.maxKeepalive = value as number; return true
      case 'connectTimeout': settings.connectTimeoutMs = (value as number) * 1000; return true
      case 'maxClientIdLength': settings.maxClientIdLength = value as number; return true
      case 'maxTopicLength': settings.topicLimits = { ...settings.topicLimits, maxLength: value as number }; return true
      case 'maxTopicLevels': settings.topicLimits = { ...settings.topicLimits, maxLevels: value as number }; return true
      case 'maxSubscriptions': settings.maxSubscriptions = value as number; return true
      default: return false
    }
  }

  /** Port of the TCP listener of --host/--port (the one bound when port 0 was asked for). */
  get port (): number {
    return this.bound[0]?.port ?? 0
  }

  /** Every listener's bound address, in configuration order, the --host/--port one first. */
  get listenerAddresses (): readonly BoundListener[] {
    return this.bound
  }

  assignClientId (): string {
    return `troupe-${randomBytes(9).toString('base64url')}`
  }

  saveSession (clientId: string): void {
    const session = this.sessions.get(clientId)
    if (session === undefined) return
    if (session.persistent) {
      this.write({ type: 'session.put', session: sessionRecordOf(session) })
      session.stored = true
    } else if (session.stored) {
      // Resumed with a Session Expiry Interval of 0: it now ends with its connection, so the
      // store must not bring it back after a restart.
      this.write({ type: 'session.delete', clientId })
      session.stored = false
    }
  }

  afterWrites (then: (error?: Error) => void): void {
    if (this.store.durable) this.commit.afterWrites(then)
    else then()
  }

  /** Stops accepting, closes every connection, writes what is pending, closes the store. */
  async close (): Promise<void> {
    this.closing ??= this.shutdown()
    return await this.closing
  }

  private async shutdown (): Promise<void> {
    this.log.info({ connections: this.connections.size }, 'broker shutting down')
    const listenerClosed = Promise.all(this.listeners.map(async ({ listener }) => await listener.close()))
    for (const connection of [...this.connections]) connection.shutdown()
    this.sessions.close()
    this.keepAlive.stop()
    this.memory.stop()
    this.admission.stop()
    this.sysTopics.stop()
    this.metrics.stop()
    await listenerClosed
    await this.commit.flushed().catch(() => undefined)
    this.persistence.stop()
    this.supervisor.stop()
    this.router.actor.send({ type: 'router.stop' })
    await this.store.close()
    for (const provider of this.providers) await provider.close?.()
    this.log.info('broker stopped')
  }

  /** Binds every listener in turn, logging each; when one cannot bind, the broker closes again. */
  private async listen (): Promise<void> {
    for (const { spec, listener } of this.listeners) {
      let address: AddressInfo
      try {
        address = await listener.listen()
      } catch (error) {
        await this.close()
        throw bindError(spec, error)
      }
      const bound: BoundListener = { type: spec.type, label: spec.label, host: address.address, port: address.port, ...('path' in spec ? { path: spec.path } : {}) }
      this.bound.push(bound)
      this.log.info({ type: bound.type, host: bound.host, port: bound.port, path: bound.path, store: this.store.kind }, 'broker listening')
    }
  }

  private accept (stream: ClientStream, transport: TransportContext): void {
    if (this.closing !== undefined) {
      stream.destroy()
      return
    }
    const admission = this.admission.admit(this.admission.needsAddresses ? clientAddressOf(stream, transport) : undefined)
    if (admission.kind !== 'admitted') {
      this.limitReached(admission.refusal.limit, { address: clientAddressOf(stream, transport), detail: admission.refusal.detail, answered: admission.kind === 'refused' })
      if (admission.kind === 'dropped') {
        this.counters.connectionsRefused++
        stream.destroy()
        return
      }
    }
    // Counted until the socket itself closes, which may be a moment after the connection ends.
    const ticket = admission.ticket
    stream.once('close', () => this.admission.release(ticket))
    const refusal = admission.kind === 'refused' ? admission.refusal : undefined
    const connection = new Connection(stream, this, finished => this.connections.delete(finished), transport, refusal)
    this.connections.add(connection)
    connection.start()
  }

  get overloaded (): boolean {
    return this.memory.overloaded
  }

  limitReached (kind: LimitKind, context: LimitContext): void {
    this.limits.reached(kind, context)
  }

  private async restore (): Promise<void> {
    const started = performance.now()
    const contents = await this.store.load()
    this.router.actor.send({ type: 'retained.restore', messages: contents.retained.map(message => createMessage(message)) })
    const now = Date.now()
    let expired = 0
    let messages = 0
    const dueWills: Message[] = []
    for (const stored of contents.sessions) {
      if (stored.expiresAt !== undefined && stored.expiresAt <= now) {
        // It ran out while the broker was down: gone, from disk too, and its will is due.
        expired++
        this.write({ type: 'session.delete', clientId: stored.clientId })
        if (stored.will !== undefined) dueWills.push({ ...createMessage(stored.will.message), receivedAt: now })
        continue
      }
      const session = this.sessions.restore(stored.clientId, stored.expiryInterval, {
        expiresAt: stored.expiresAt,
        will: stored.will === undefined ? undefined : { message: createMessage(stored.will.message), delay: stored.will.delay }
      })
      for (const subscription of stored.subscriptions) {
        session.subscriptions.set(subscription.filter, subscription)
        this.router.subscribe(session, subscription)
      }
      session.restoreHeld(stored.messages.map(heldOf), stored.awaitingRelease)
      session.stored = true
      messages += stored.messages.length
    }
    // Once every session is back, so that each restored subscriber gets them.
    for (const will of dueWills) this.router.publish(will)
    if (contents.retained.length > 0 || contents.sessions.length > 0) {
      this.log.info({
        retained: contents.retained.length,
        sessions: contents.sessions.length - expired,
        expiredSessions: expired,
        messages,
        ms: Math.round(performance.now() - started)
      }, 'restored from store')
    }
  }

  private write (operation: StoreOperation): void {
    this.commit.write(operation)
  }

  private onDropped (session: Session, delivery: Delivery, reason: DropReason): void {
    this.counters.dropped[reason]++
    if (reason === 'queue-full' || reason === 'queue-bytes-full') {
      this.counters.limited[reason === 'queue-full' ? 'max-queued' : 'max-queued-bytes']++
      if (!session.overflowing) {
        session.overflowing = true
        this.log.warn({ clientId: session.clientId, topic: delivery.message.topic, maxQueued: this.config.maxQueued, maxQueuedBytes: this.config.maxQueuedBytes, queued: session.queue.length, ...(reason === 'queue-bytes-full' ? { queuedBytes: session.queue.weight } : {}), limit: reason === 'queue-full' ? 'max-queued' : 'max-queued-bytes' }, 'session queue full: dropping messages until it drains')
      }
    } else if (reason === 'backpressure' && this.memory.overloaded) {
      // Shed under memory pressure: the lower bar a backed-up client meets while overloaded.
      this.counters.limited['memory-watermark']++
    }
  }

  private onSessionDiscarded (session: Session): void {
    this.router.forget(session)
    this.router.redistribute(session.takeShared(undefined, true))
    // `stored` too: a DISCONNECT may have set the interval to 0 after the record was written.
    if (session.persistent || session.stored) this.write({ type: 'session.delete', clientId: session.clientId })
    session.stored = false
  }
}

/**
 * SCRAM-SHA-256 over a credentials file. An unknown user's fake credentials copy what most users
 * have (iteration count and salt length), and their salt is keyed on the file's ServerKeys: the
 * same across restarts while the file is unchanged, like a real user's, and unguessable
 * without the file.
 */
function scramFromFile (file: ScramCredentialsFile): ScramSha256 {
  const users = [...file.users.values()]
  if (users.length === 0) return new ScramSha256(file)
  const secret = createHash('sha256').update('troupe-scram-file-secret\0')
  for (const credentials of users) secret.update(credentials.serverKey)
  return new ScramSha256(file, {
    secret: secret.digest(),
    fakeIterations: mostCommon(users.map(credentials => credentials.iterations)),
    fakeSaltLength: mostCommon(users.map(credentials => credentials.salt.length))
  })
}

function mostCommon (values: readonly number[]): number {
  const counts = new Map<number, number>()
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1)
  return [...counts].reduce((best, entry) => entry[1] > best[1] ? entry : best)[0]
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] }
