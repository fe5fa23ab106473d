import mqttPacket, { type ISubackPacket, type IUnsubackPacket, type Packet } from 'mqtt-packet'
import { createActor } from 'xstate'
import { remainingExpiry, type Message } from '../router/message.js'
import type { Delivery } from '../session/delivery.js'
import type { SessionTenant } from '../session/session-registry.js'
import type { Session } from '../session/session.js'
import type { AuthenticationVerdict } from './authenticator.js'
import { enforcedAuthorizer, type Authorizer, type Permission } from './authorizer.js'
import { AwaitingPermission, type HeldPackets } from './awaiting-permission.js'
import { PermissionMemo } from './permission-memo.js'
import type { BrokerServices } from './broker-services.js'
import { clientAddressOf } from './client-address.js'
import { stateName, type ConnectionDetail, type ConnectionSummary } from './connection-summary.js'
import type { ClientStream, TransportContext } from './client-stream.js'
import { closeReason, type CloseReason } from './close-reason.js'
import type { ConnectionDriver, ConnectionEvent } from './connection.events.js'
import type { ConnectionLink } from './connection-link.js'
import { connectionMachine, type ConnectionActor } from './connection.machine.js'
import { dispatchPacket } from './dispatch-packet.js'
import { EventTrail } from './event-trail.js'
import { connackFor, encodeV3Connack } from './handlers/connack.js'
import { inspectConnect, refuseAdmission, type AcceptedConnect, type RefusedConnect } from './handlers/connect.js'
import type { AdmissionRefusal } from './limits/admission-refusal.js'
import { InboundThrottle } from './limits/inbound-throttle.js'
import { ReadGate } from './read-gate.js'
import type { KeepAliveSubject } from './keep-alive.js'
import { Outbox } from './outbox.js'
import { PacketReader } from './packet-reader.js'
import { AuthConversation } from './auth-conversation.js'
import { disconnectReasonCode } from './auth-methods/auth-method.js'
import { StoreError } from '../../persistence/store.js'
import { acknowledgement, encodeAcknowledgement, isAcknowledgement, type Acknowledgement } from './protocol/acknowledgement.js'
import type { ProtocolCapabilities } from './protocol/protocol-version.js'
import { connackCode, ReasonCode } from './protocol/reason-codes.js'
import { TopicAliases } from './protocol/topic-aliases.js'
import { NO_EXTRAS, publishEncoder, type V5Extras } from './publish-encoder.js'
import { mayPublish } from './publish-permission.js'
import { serverDisconnectFor } from './server-disconnect.js'

/** CONNACK with return code 1, as MQTT 3.1/3.1.1 encode it, for a client whose level the parser refused. */
const CONNACK_UNACCEPTABLE_PROTOCOL = Buffer.from([0x20, 0x02, 0x00, 0x01])

// mqtt-packet otherwise builds a cache of 65,536 two-byte Buffers (6 MB) on its first generate:
// a 0.1 s stall at the first client's CONNACK, then scavenges of 15-20 ms copying the cache
// just as traffic starts (`node --trace-gc`). Without it a packet id in a control packet costs
// one small allocation.
mqttPacket.writeToStream.cacheNumbers = false

/** Queued messages a connection's detail lists; its summary counts them all. */
const DETAIL_QUEUED_MESSAGES = 100

/** How long a closing socket may take to flush and be closed by the client before it is destroyed. */
const CLOSE_GRACE_MS = 1000

/** How long a socket refused at accept waits for the CONNECT it answers (less if connect-timeout is shorter). */
const REFUSAL_GRACE_MS = 2000

/**
 * Unsent bytes above which a client counts as backed up while memory is above the watermark:
 * far below the usual outbox high-water mark, so QoS 0 to a client that lags even a little is
 * shed. Above the socket's own high-water mark (16 KiB), so that a 'drain' still follows.
 */
const OVERLOADED_HIGH_WATER_MARK = 64 * 1024

/**
 * One client connection: the imperative shell around a connection machine. It turns socket
 * chunks into machine events, carries out what the machine decides, and is the session's
 * owner while the client is online.
 */
export class Connection implements ConnectionDriver, ConnectionLink, SessionTenant, KeepAliveSubject {
  readonly actor: ConnectionActor
  private address: string | undefined
  readonly connectedAt = Date.now()
  private readonly reader: PacketReader
  private readonly outbox: Outbox
  lastActivityAt = performance.now()
  keepAliveTimeoutMs = 0
  private accepted: AcceptedConnect | undefined
  private sessionRef: Session | undefined
  private aliases: TopicAliases | undefined
  private connectTimer: NodeJS.Timeout | undefined
  /** The enhanced-authentication exchange under way, at CONNECT or a re-authentication. */
  private conversation: AuthConversation | undefined
  /** What the authentication method said last on success, for CONNACK. */
  private authenticationData: Buffer | undefined
  private finished = false
  /** Pauses the socket while something (the inbound rate limit, a pending permission) holds it. */
  private readonly gate: ReadGate
  /** Holds inbound packets beyond max-message-rate / max-bandwidth; undefined when both are off. */
  private readonly throttle: InboundThrottle | undefined
  /** The authorizer that checks what this client may read, or undefined when it may read everything. */
  private readChecks: Authorizer | undefined
  /** Permissions decided while the packet being handled was held; cleared once it is handled. */
  private readonly decided = new PermissionMemo()
  /** Whether the will may be published, when an auth provider decided it during authentication. */
  private willPermitted: boolean | undefined
  /** The machine's last events, for the monitor. */
  private readonly trail = new EventTrail()

  constructor (
    private readonly socket: ClientStream,
    readonly broker: BrokerServices,
    private readonly onFinished: (connection: Connection) => void,
    private readonly transport: TransportContext = {},
    /** Set when the broker refused this client at accept (a connection limit): CONNECT only gets CONNACK with it. */
    private readonly refusal?: AdmissionRefusal
  ) {
    this.reader = new PacketReader(broker.settings.maxPacketSize)
    this.gate = new ReadGate(socket)
    this.throttle = InboundThrottle.for(broker.settings, this.gate, packets => this.passThrottled(packets), limit => {
      this.broker.limitReached(limit, { clientId: this.clientId || undefined, address: this.remoteAddress })
    })
    this.outbox = new Outbox(socket, broker.settings.outboxHighWaterMark, () => this.sessionRef?.drain())
    // One id for every connection: the supervisor then sees one event type for all their
    // endings (`xstate.done.actor.connection`) instead of a new one per connection, which
    // xstate would remember per type for ever. The actor system tells them apart by session id.
    this.actor = createActor(connectionMachine, { id: 'connection', input: { driver: this }, parent: broker.supervisor })
  }

  start (): void {
    const socket = this.socket
    socket.setNoDelay?.(true)
    socket.on('data', chunk => this.onData(chunk))
    socket.on('error', error => this.end({ type: 'socket.closed', reason: closeReason('socket-error', error.message) }))
    socket.on('close', () => this.end({ type: 'socket.closed', reason: closeReason('socket-closed', 'the client closed the connection') }))
    this.actor.start()
    this.trail.record('started', this.actor.getSnapshot().value)
  }

  /**
   * `host:port` of the client: the one the listener established (behind a load balancer, from
   * its PROXY protocol header), else the socket's, looked up on first use (a system call).
   */
  get remoteAddress (): string {
    if (this.address === undefined) {
      const { remoteAddress, remotePort } = this.transport.remoteAddress === undefined ? this.socket : this.transport
      this.address = `${remoteAddress ?? 'unknown'}:${remotePort ?? 0}`
    }
    return this.address
  }

  /** The client's host, without the port: what failed logins are counted by, as per-address limits are. */
  get clientHost (): string {
    return clientAddressOf(this.socket, this.transport)
  }

  get clientId (): string {
    return this.accepted?.clientId ?? ''
  }

  get protocol (): ProtocolCapabilities {
    if (this.accepted === undefined) throw new Error('the connection has no protocol before CONNECT is accepted')
    return this.accepted.protocol
  }

  get connect (): AcceptedConnect {
    if (this.accepted === undefined) throw new Error('the connection has no CONNECT before it is accepted')
    return this.accepted
  }

  get topicAliases (): TopicAliases {
    if (this.aliases === undefined) throw new Error('the connection has no topic aliases before CONNECT is accepted')
    return this.aliases
  }

  get receiveMaximum (): number {
    return this.accepted?.clientReceiveMaximum ?? 65535
  }

  get session (): Session {
    if (this.sessionRef === undefined) throw new Error('the connection has no session before CONNECT is accepted')
    return this.sessionRef
  }

  /** Closes the connection for the broker's shutdown. */
  shutdown (): void {
    this.end({ type: 'broker.shutdown', reason: closeReason('server-shutdown', 'the broker is shutting down') })
  }

  /** Ends the connection at an administrator's request: v5 clients get DISCONNECT 0x98 Administrative action, and the will is sent. */
  disconnectByAdmin (): void {
    this.end({ type: 'admin.disconnect', reason: closeReason('administrative-action', 'disconnected by an administrator') })
  }

  // --- what the monitor shows ---

  summary (): ConnectionSummary {
    const session = this.sessionRef
    return {
      clientId: this.clientId,
      address: this.remoteAddress,
      protocol: this.accepted?.protocol.name ?? '',
      username: this.accepted?.username,
      state: stateName(this.actor.getSnapshot().value),
      keepAlive: this.accepted?.keepAlive ?? 0,
      inflight: session?.inflight.size ?? 0,
      queued: session?.queue.length ?? 0,
      subscriptions: session?.subscriptions.size ?? 0,
      connectedAt: this.connectedAt
    }
  }

  detail (): ConnectionDetail {
    const session = this.sessionRef
    const queuedMessages: Array<ConnectionDetail['queuedMessages'][number]> = []
    for (const delivery of session?.queue ?? []) {
      if (queuedMessages.length === DETAIL_QUEUED_MESSAGES) break
      queuedMessages.push({ topic: delivery.message.topic, qos: delivery.qos, bytes: delivery.message.payload.length })
    }
    return {
      ...this.summary(),
      cleanStart: this.accepted?.cleanStart ?? true,
      sessionExpiry: session?.expiryInterval ?? 0,
      willTopic: this.accepted?.will?.message.topic,
      subscriptionList: [...session?.subscriptions.values() ?? []].map(({ filter, qos, subscriptionId }) => ({ filter, qos, subscriptionId })),
      inflightMessages: [...session?.inflight.values() ?? []].map(({ packetId, delivery, state }) => ({ packetId, topic: delivery.message.topic, qos: delivery.qos, state, bytes: delivery.message.payload.length })),
      queuedMessages,
      trail: this.trail.entries()
    }
  }

  // --- ConnectionDriver: what the machine asks for ---

  startConnectTimer (): void {
    this.connectTimer = setTimeout(() => this.signal({
      type: 'connect.timeout',
      reason: closeReason('connect-timeout', 'no CONNECT within the connect timeout')
    }), this.refusal === undefined ? this.broker.settings.connectTimeoutMs : Math.min(this.broker.settings.connectTimeoutMs, REFUSAL_GRACE_MS))
    this.connectTimer.unref()
  }

  stopConnectTimer (): void {
    clearTimeout(this.connectTimer)
    this.connectTimer = undefined
  }

  inspectConnect (packet: Packet): AcceptedConnect | RefusedConnect {
    if (packet.cmd !== 'connect') throw new Error('inspectConnect needs a CONNECT packet')
    this.broker.counters.packetsReceived.connect = (this.broker.counters.packetsReceived.connect ?? 0) + 1
    const verdict = inspectConnect(packet, this.broker.settings, () => this.broker.assignClientId())
    // Refused at accept (and counted there): whatever the CONNECT says, it gets the limit's CONNACK.
    if (this.refusal !== undefined && verdict.protocol !== undefined) return refuseAdmission(verdict.protocol, this.refusal, packet.clientId)
    // The start of the client id only: a refused one may be 64 KiB long.
    if (!verdict.accepted && verdict.limit !== undefined) this.broker.limitReached(verdict.limit, { clientId: packet.clientId?.slice(0, 128), address: this.remoteAddress, detail: verdict.close.detail })
    // A verified identity from the listener is who the client is, whatever its CONNECT says.
    return verdict.accepted && this.transport.identity !== undefined ? { ...verdict, username: this.transport.identity } : verdict
  }

  needsAuthentication (verdict: AcceptedConnect): boolean {
    return this.broker.authenticator.allowsEveryone !== true || verdict.authenticationMethod !== undefined ||
      // A provider that decides later is asked about the will here, where waiting is possible.
      (verdict.will !== undefined && this.broker.authorizer?.mayAnswerLater === true)
  }

  async authenticate (verdict: AcceptedConnect): Promise<AuthenticationVerdict> {
    const { failedLogins, counters } = this.broker
    if (failedLogins.isBanned(this.clientHost)) {
      counters.authFailures++
      return { allowed: false, reasonCode: ReasonCode.Banned }
    }
    const outcome = await this.checkCredentials(verdict)
    if (!outcome.allowed) {
      this.loginFailed(verdict, outcome)
      return outcome
    }
    failedLogins.recordSuccess(this.clientHost)
    const will = verdict.will?.message
    if (will !== undefined) this.willPermitted = await mayPublish(this.broker, verdict, will.topic, will.qos, will.retain)
    return outcome
  }

  private async checkCredentials (verdict: AcceptedConnect): Promise<AuthenticationVerdict & { readonly detail?: string }> {
    if (verdict.authenticationMethod !== undefined) {
      const outcome = await this.converse(verdict.authenticationMethod, verdict.clientId, verdict.authenticationData, verdict.protocol)
      if (outcome.kind === 'failure') return { allowed: false, reasonCode: outcome.reasonCode, detail: outcome.detail }
      this.authenticationData = outcome.data
      return { allowed: true }
    }
    return await this.broker.authenticator.authenticate({
      clientId: verdict.clientId,
      username: verdict.username,
      password: verdict.password,
      remoteAddress: this.remoteAddress,
      protocol: verdict.protocol,
      certifiedIdentity: this.transport.identity
    })
  }

  /**
   * Logs a refused login with the client's address (never its password), and counts it
   * against the address unless the broker itself failed (an auth service down is not a guess).
   */
  private loginFailed (verdict: AcceptedConnect, outcome: { readonly reasonCode: number, readonly detail?: string }): void {
    const { failedLogins, counters, log } = this.broker
    counters.authFailures++
    const brokerSide = outcome.reasonCode === ReasonCode.ServerUnavailable || outcome.reasonCode === ReasonCode.ServerBusy
    log.warn({ clientId: verdict.clientId, username: verdict.username, address: this.remoteAddress, method: verdict.authenticationMethod, reasonCode: outcome.reasonCode, detail: outcome.detail }, 'login failed')
    if (brokerSide || failedLogins.recordFailure(this.clientHost) !== 'banned') return
    log.warn({ address: this.clientHost, ...failedLogins.policy }, 'address banned after repeated failed logins: its logins are refused unchecked until the ban ends')
  }

  refuse (verdict: { protocol: ProtocolCapabilities | undefined, connackReason: number | undefined }): void {
    this.broker.counters.connectionsRefused++
    if (verdict.connackReason === undefined || verdict.protocol === undefined) return
    this.write({ cmd: 'connack', sessionPresent: false, returnCode: connackCode(verdict.protocol, verdict.connackReason), reasonCode: connackCode(verdict.protocol, verdict.connackReason) }, verdict.protocol)
  }

  openSession (connect: AcceptedConnect): void {
    const verdict = this.withPermittedWill(connect)
    this.accepted = verdict
    this.readChecks = enforcedAuthorizer(this.broker.authorizer)
    // Only MQTT 5 has topic aliases; older clients do not pay for the tables.
    if (verdict.protocol.reasonCodes) this.aliases = new TopicAliases(this.broker.settings.maxTopicAlias, verdict.clientTopicAliasMaximum)
    const { session, sessionPresent } = this.broker.sessions.claim(verdict.clientId, verdict.cleanStart, verdict.sessionExpiry, this)
    this.sessionRef = session
    if (session.persistent) session.will = verdict.will
    // Also for a session resumed with expiry 0: its stored record must go.
    if (session.persistent || session.stored) this.broker.saveSession(verdict.clientId)
    this.broker.counters.connectionsAccepted++
    this.send(connackFor(verdict, sessionPresent, this.broker.settings, this.authenticationData))
    this.authenticationData = undefined
    if (this.broker.log.isLevelEnabled('info')) this.broker.log.info({ clientId: verdict.clientId, address: this.remoteAddress, protocol: verdict.protocol.name, sessionPresent, keepAlive: verdict.keepAlive }, 'client connected')
    session.resume()
  }

  dispatch (packets: readonly Packet[]): CloseReason | HeldPackets | undefined {
    for (let index = 0; index < packets.length; index++) {
      const outcome = dispatchPacket(this, packets[index]!)
      if (outcome instanceof AwaitingPermission) return { held: packets.slice(index), until: outcome.decided }
      this.decided.clear()
      if (outcome !== undefined) return outcome
    }
    return undefined
  }

  pauseReading (): void {
    this.gate.hold('permission')
  }

  resumeReading (): void {
    this.gate.release('permission')
  }

  startKeepAlive (): void {
    const keepAlive = this.accepted?.keepAlive ?? 0
    if (keepAlive === 0) return
    this.keepAliveTimeoutMs = keepAlive * 1500
    this.broker.keepAlive.watch(this)
  }

  stopKeepAlive (): void {
    this.broker.keepAlive.unwatch(this)
  }

  keepAliveExpired (): void {
    if (this.gate.paused) {
      // The broker itself is not reading this client (rate limit, a permission being decided),
      // so its silence says nothing: watch again from now.
      this.lastActivityAt = performance.now()
      this.broker.keepAlive.watch(this)
      return
    }
    this.signal({
      type: 'keepalive.expired',
      reason: closeReason('keepalive-timeout', 'no packet within 1.5 times the keep-alive period [MQTT-3.1.2-24]')
    })
  }

  finish (reason: CloseReason): void {
    this.finished = true
    this.throttle?.stop()
    const log = this.broker.log
    const session = this.sessionRef
    const will = reason.publishWill ? this.accepted?.will : undefined
    // A will with a delay waits in the registry for the delay or the session's end [MQTT-3.1.2-8 (v5)].
    const delayedWill = will !== undefined && will.delay > 0 ? { message: will.message, delay: will.delay } : undefined
    if (session !== undefined) this.broker.sessions.release(session, this, delayedWill)
    if (will !== undefined && delayedWill === undefined) this.publishWill(will.message)
    if (this.accepted?.protocol.reasonCodes === true && this.shouldSendDisconnect(reason)) {
      this.send(serverDisconnectFor(reason, this.accepted.clientMaximumPacketSize))
    }
    this.outbox.close()
    // A half-close lets the client read what was sent last (CONNACK, DISCONNECT) before the
    // connection goes; destroying now could reset it first. A client that never closes its
    // side is cut off after a grace period.
    this.socket.end()
    setTimeout(() => this.socket.destroy(), CLOSE_GRACE_MS).unref()
    // Refusals at accept were logged there, a few lines at most: one line per socket would let a flood of them flood the log.
    const level = reason.kind === 'client-disconnect' || reason.kind === 'server-shutdown' ? 'info' : this.refusal !== undefined ? 'debug' : 'warn'
    if (log.isLevelEnabled(level)) log[level]({ clientId: this.clientId || undefined, address: this.remoteAddress, reason: reason.kind, detail: reason.detail }, 'client disconnected')
    this.onFinished(this)
  }

  receiveAuth (packet: Extract<Packet, { cmd: 'auth' }>): void {
    if (this.conversation?.receive(packet) === true) return
    this.end({ type: 'protocol.violated', reason: closeReason('protocol-error', 'AUTH that no authentication exchange awaited') })
  }

  /**
   * A connected v5 client re-authenticates [MQTT-4.12.1-1 (v5)]: the exchange runs beside the
   * connection's traffic and ends with AUTH 0x00, or with DISCONNECT when it fails.
   */
  reauthenticate (packet: Extract<Packet, { cmd: 'auth' }>): CloseReason | undefined {
    const method = this.connect.authenticationMethod
    if (method === undefined || packet.properties?.authenticationMethod !== method) {
      return closeReason('protocol-error', 're-authentication with another method than CONNECT used [MQTT-4.12.1-1]')
    }
    if (this.conversation !== undefined) return closeReason('protocol-error', 're-authentication while one is under way')
    void this.converse(method, this.clientId, packet.properties.authenticationData, this.protocol).then(outcome => {
      if (this.finished) return
      if (outcome.kind === 'success') {
        this.send({ cmd: 'auth', reasonCode: ReasonCode.Success, properties: { authenticationMethod: method, ...(outcome.data !== undefined ? { authenticationData: outcome.data } : {}) } })
        return
      }
      this.broker.log.warn({ clientId: this.clientId, method, detail: outcome.detail }, 're-authentication failed')
      const reason = closeReason('not-authorized', `re-authentication failed: ${outcome.detail}`)
      this.end({ type: 'protocol.violated', reason: { ...reason, reasonCode: disconnectReasonCode(outcome.reasonCode) } })
    })
    return undefined
  }

  /** Runs an enhanced-authentication exchange with method `name`; no such method fails with 0x8C. */
  private async converse (name: string, clientId: string, first: Buffer | undefined, protocol: ProtocolCapabilities): Promise<Awaited<ReturnType<AuthConversation['run']>>> {
    const method = this.broker.authMethods.get(name)
    if (method === undefined) return { kind: 'failure', reasonCode: ReasonCode.BadAuthenticationMethod, detail: `authentication method "${name}" is not offered` }
    const conversation = new AuthConversation(name, method.start({ clientId, remoteAddress: this.remoteAddress }), data => {
      this.write({ cmd: 'auth', reasonCode: ReasonCode.ContinueAuthentication, properties: { authenticationMethod: name, authenticationData: data } }, protocol)
    }, this.broker.settings.connectTimeoutMs)
    this.conversation = conversation
    try {
      return await conversation.run(first)
    } finally {
      this.conversation = undefined
    }
  }

  // --- ConnectionLink and SessionTenant: what handlers and the session use ---

  get backedUp (): boolean {
    return this.outbox.backedUp || (this.broker.overloaded && this.outbox.pendingBytes > OVERLOADED_HIGH_WATER_MARK)
  }

  send (packet: Packet): void {
    this.write(packet, this.protocol)
  }

  acknowledge (ack: Acknowledgement | ISubackPacket | IUnsubackPacket, then?: () => void): void {
    this.broker.afterWrites(error => {
      if (this.finished) return
      if (error === undefined) {
        this.send(ack)
        then?.()
      } else if (this.protocol.reasonCodes && (ack.cmd === 'puback' || ack.cmd === 'pubrec')) {
        // Refused, not acknowledged: the publisher knows the message was not taken [MQTT-3.4.2-1 (v5)].
        this.send({ ...ack, reasonCode: error instanceof StoreError && error.diskFull ? ReasonCode.QuotaExceeded : ReasonCode.UnspecifiedError })
      } else {
        // v3 has no way to refuse: close without acknowledging, so the client sends it again.
        this.end({ type: 'store.failed', reason: closeReason('store-failed', `the store could not write what ${ack.cmd.toUpperCase()} ${ack.messageId ?? 0} confirms: ${error.message}`) })
      }
    })
  }

  permission (action: string, subject: string, ask: () => Permission): Permission {
    return this.decided.permission(action, subject, ask)
  }

  sendPublish (delivery: Delivery, packetId: number | undefined, dup: boolean): boolean {
    // Read access is checked on a message's first send only: a re-sent one (DUP) was allowed then.
    if (this.readChecks !== undefined && !dup && !this.readChecks.authorizeRead({ clientId: this.clientId, username: this.accepted?.username, topic: delivery.message.topic })) {
      this.broker.counters.dropped['not-authorized']++
      return false
    }
    const protocol = this.protocol
    const extras = protocol.reasonCodes ? this.v5Extras(delivery) : NO_EXTRAS
    const bytes = publishEncoder.encode(protocol, delivery, packetId, dup, extras)
    const limit = this.accepted?.clientMaximumPacketSize
    if (limit !== undefined && bytes.length > limit) {
      // Larger than the client accepts: dropped for this client only [MQTT-3.1.2-25 (v5)].
      if (extras.topicAlias !== undefined && extras.sendTopic) this.topicAliases.forget(delivery.message.topic)
      this.broker.counters.dropped['too-large']++
      return false
    }
    this.broker.counters.messagesSent++
    this.broker.counters.bytesSent += bytes.length
    this.outbox.write(bytes)
    return true
  }

  sendPubrel (packetId: number): void {
    this.send(acknowledgement(this.protocol, 'pubrel', packetId))
  }

  takeOver (): void {
    this.end({ type: 'takeover.requested', reason: closeReason('session-taken-over', 'another connection took over this client id [MQTT-3.1.4-2]') })
  }

  // --- internals ---

  /** The parts of a v5 PUBLISH that are this client's own: its topic alias and the expiry left. */
  private v5Extras (delivery: Delivery): V5Extras {
    const messageExpiry = remainingExpiry(delivery.message)
    const alias = this.aliases?.outboundFor(delivery.message.topic)
    if (alias === undefined && messageExpiry === undefined) return NO_EXTRAS
    return {
      topicAlias: alias?.alias,
      sendTopic: alias === undefined || alias.isNew,
      messageExpiry: messageExpiry === undefined ? undefined : Math.max(messageExpiry, 1)
    }
  }

  private onData (chunk: Buffer): void {
    if (this.finished) return
    this.lastActivityAt = performance.now()
    this.broker.counters.bytesReceived += chunk.length
    const { packets, failure } = this.reader.read(chunk)
    if (this.throttle !== undefined && failure === undefined) this.throttle.admit(packets)
    // Packets behind held ones would overtake them; the connection is closing, and none of them was acknowledged.
    else if (packets.length > 0 && this.throttle?.holding !== true) this.signal({ type: 'packets.received', packets })
    if (failure !== undefined && !this.finished) {
      if (failure.kind === 'packet-too-large') this.broker.limitReached('max-packet-size', { clientId: this.clientId || undefined, address: this.remoteAddress, detail: failure.detail })
      if (this.reader.unsupportedProtocolVersion && this.accepted === undefined) {
        this.broker.counters.connectionsRefused++
        this.outbox.write(CONNACK_UNACCEPTABLE_PROTOCOL)
      }
      this.end({ type: 'protocol.violated', reason: failure })
    }
  }

  /** Packets the inbound throttle lets through, later than their chunk came. */
  private passThrottled (packets: Packet[]): void {
    if (this.finished) return
    this.lastActivityAt = performance.now()
    this.signal({ type: 'packets.received', packets })
  }

  private end (event: { type: 'socket.closed' | 'protocol.violated' | 'broker.shutdown' | 'takeover.requested' | 'admin.disconnect' | 'store.failed', reason: CloseReason }): void {
    if (this.finished) return
    this.signal(event)
  }

  /** Hands the machine an event, and notes it and where it left the machine for the monitor. */
  private signal (event: ConnectionEvent): void {
    this.actor.send(event)
    if (event.type === 'packets.received') this.trail.record(event.type, this.actor.getSnapshot().value, event.packets[0]?.cmd, event.packets.length)
    else this.trail.record(event.type, this.actor.getSnapshot().value)
  }

  private write (packet: Packet, protocol: ProtocolCapabilities): void {
    const bytes = encodedDirectly(packet, protocol.level) ?? mqttPacket.generate(packet, { protocolVersion: protocol.level })
    this.broker.counters.bytesSent += bytes.length
    this.outbox.write(bytes)
  }

  private publishWill (will: Message): void {
    this.broker.log.info({ clientId: this.clientId, topic: will.topic }, 'publishing will')
    this.broker.counters.messagesReceived++
    this.broker.router.publish({ ...will, receivedAt: Date.now() })
  }

  /**
   * `connect` without its will when the client may not publish on the will topic. Checked once,
   * at CONNECT, rather than when the will is due: the rules do not change while the broker
   * runs, and a will stored with a persistent session is then known to be allowed when a
   * restarted broker sends it. The client is not told (Mosquitto does not tell it either).
   */
  private withPermittedWill (connect: AcceptedConnect): AcceptedConnect {
    const will = connect.will?.message
    // Decided already when an auth provider was asked during authentication; a provider that
    // would only answer now (it cannot: needsAuthentication) counts as a no.
    if (will === undefined || (this.willPermitted ?? mayPublish(this.broker, connect, will.topic, will.qos, will.retain)) === true) return connect
    this.broker.log.info({ clientId: connect.clientId, username: connect.username, topic: will.topic }, 'will discarded: the client may not publish on its topic')
    return { ...connect, will: undefined }
  }

  /** v5: the broker tells the client why it closes, except when the client ended it. */
  private shouldSendDisconnect (reason: CloseReason): boolean {
    return reason.kind !== 'client-disconnect' && reason.kind !== 'client-disconnect-with-will' && reason.kind !== 'socket-closed' && reason.kind !== 'socket-error'
  }
}

/** The bytes of the packets the broker encodes itself (the frequent, fixed-shape ones), else undefined. */
function encodedDirectly (packet: Packet, protocolLevel: number): Buffer | undefined {
  if (isAcknowledgement(packet)) return encodeAcknowledgement(packet)
  if (packet.cmd === 'connack') return encodeV3Connack(packet, protocolLevel)
  return undefined
}
