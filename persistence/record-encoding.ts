import type { QoS } from 'mqtt-packet'
import type { MessageProperties } from '../actors/router/message.js'
import type { Subscription } from '../actors/router/subscription.js'
import { HeaderFields } from './header-fields.js'
import { BlobList, readEnvelope, writeEnvelope, type HeaderValue } from './record-envelope.js'
import type { SessionMessageRecord, SessionRecord, StoredMessage, StoredMessageState, StoredWill } from './store.js'

/**
 * How each kind of record of the LevelDB store becomes a value and back. What the key already
 * says (client id, seq, packet id) is not repeated in the value. Headers use full field names:
 * they are compressed by LevelDB, and a person reading a dump can tell what they hold.
 */

const QOS_LEVELS: readonly QoS[] = [0, 1, 2]
const RETAIN_HANDLING: ReadonlyArray<0 | 1 | 2> = [0, 1, 2]
const MESSAGE_STATES: readonly StoredMessageState[] = ['awaitingPuback', 'awaitingPubrec', 'awaitingPubcomp']

// ---- messages (inside every kind of record that holds one) ----

function messageHeader (message: StoredMessage, blobs: BlobList): HeaderValue {
  return {
    topic: message.topic,
    qos: message.qos,
    retain: message.retain,
    receivedAt: message.receivedAt,
    origin: message.origin,
    payload: blobs.add(message.payload),
    properties: message.properties === undefined ? undefined : propertiesHeader(message.properties, blobs)
  }
}

function propertiesHeader (properties: MessageProperties, blobs: BlobList): HeaderValue {
  return {
    payloadFormatIndicator: properties.payloadFormatIndicator,
    messageExpiryInterval: properties.messageExpiryInterval,
    contentType: properties.contentType,
    responseTopic: properties.responseTopic,
    correlationData: properties.correlationData === undefined ? undefined : blobs.add(properties.correlationData),
    userProperties: properties.userProperties
  }
}

function readMessage (fields: HeaderFields, blobs: readonly Buffer[]): StoredMessage {
  const message: { -readonly [F in keyof StoredMessage]: StoredMessage[F] } = {
    topic: fields.string('topic'),
    payload: fields.blob('payload', blobs),
    qos: fields.oneOf('qos', QOS_LEVELS),
    retain: fields.boolean('retain'),
    receivedAt: fields.number('receivedAt')
  }
  if (fields.has('origin')) message.origin = fields.string('origin')
  if (fields.has('properties')) message.properties = readProperties(fields.object('properties'), blobs)
  return message
}

function readProperties (fields: HeaderFields, blobs: readonly Buffer[]): MessageProperties {
  const properties: { -readonly [F in keyof MessageProperties]: MessageProperties[F] } = {}
  if (fields.has('payloadFormatIndicator')) properties.payloadFormatIndicator = fields.boolean('payloadFormatIndicator')
  if (fields.has('messageExpiryInterval')) properties.messageExpiryInterval = fields.number('messageExpiryInterval')
  if (fields.has('contentType')) properties.contentType = fields.string('contentType')
  if (fields.has('responseTopic')) properties.responseTopic = fields.string('responseTopic')
  if (fields.has('correlationData')) properties.correlationData = fields.blob('correlationData', blobs)
  if (fields.has('userProperties')) properties.userProperties = fields.pairs('userProperties')
  return properties
}

// ---- retained messages ----

export function encodeRetained (message: StoredMessage): Buffer {
  const blobs = new BlobList()
  return writeEnvelope(messageHeader(message, blobs), blobs.blobs)
}

export function decodeRetained (key: string, value: Buffer): StoredMessage {
  const { header, blobs } = readEnvelope(key, value)
  return readMessage(new HeaderFields(key, header), blobs)
}

// ---- session records ----

export function encodeSession (session: SessionRecord): Buffer {
  const blobs = new BlobList()
  const header: HeaderValue = {
    subscriptions: session.subscriptions.map(subscription => ({
      filter: subscription.filter,
      qos: subscription.qos,
      noLocal: subscription.noLocal,
      retainAsPublished: subscription.retainAsPublished,
      retainHandling: subscription.retainHandling,
      subscriptionId: subscription.subscriptionId
    })),
    expiryInterval: session.expiryInterval,
    expiresAt: session.expiresAt,
    will: session.will === undefined ? undefined : { delay: session.will.delay, message: messageHeader(session.will.message, blobs) }
  }
  return writeEnvelope(header, blobs.blobs)
}

export function decodeSession (key: string, clientId: string, value: Buffer): SessionRecord {
  const { header, blobs } = readEnvelope(key, value)
  const fields = new HeaderFields(key, header)
  const session: { -readonly [F in keyof SessionRecord]: SessionRecord[F] } = {
    clientId,
    subscriptions: fields.objects('subscriptions').map(readSubscription)
  }
  if (fields.has('expiryInterval')) session.expiryInterval = fields.number('expiryInterval')
  if (fields.has('expiresAt')) session.expiresAt = fields.number('expiresAt')
  if (fields.has('will')) session.will = readWill(fields.object('will'), blobs)
  return session
}

function readSubscription (fields: HeaderFields): Subscription {
  const subscription: { -readonly [F in keyof Subscription]: Subscription[F] } = {
    filter: fields.string('filter'),
    qos: fields.oneOf('qos', QOS_LEVELS),
    noLocal: fields.boolean('noLocal'),
    retainAsPublished: fields.boolean('retainAsPublished'),
    retainHandling: fields.oneOf('retainHandling', RETAIN_HANDLING)
  }
  if (fields.has('subscriptionId')) subscription.subscriptionId = fields.number('subscriptionId')
  return subscription
}

function readWill (fields: HeaderFields, blobs: readonly Buffer[]): StoredWill {
  return { delay: fields.number('delay'), message: readMessage(fields.object('message'), blobs) }
}

// ---- session messages ----

export function encodeSessionMessage (record: SessionMessageRecord): Buffer {
  const blobs = new BlobList()
  const header: HeaderValue = {
    message: messageHeader(record.message, blobs),
    qos: record.qos,
    retain: record.retain,
    subscriptionIds: record.subscriptionIds,
    sharedGroup: record.sharedGroup,
    packetId: record.packetId,
    state: record.state
  }
  return writeEnvelope(header, blobs.blobs)
}

export function decodeSessionMessage (key: string, clientId: string, seq: number, value: Buffer): SessionMessageRecord {
  const { header, blobs } = readEnvelope(key, value)
  const fields = new HeaderFields(key, header)
  const record: { -readonly [F in keyof SessionMessageRecord]: SessionMessageRecord[F] } = {
    clientId,
    seq,
    message: readMessage(fields.object('message'), blobs),
    qos: fields.oneOf('qos', QOS_LEVELS),
    retain: fields.boolean('retain')
  }
  if (fields.has('subscriptionIds')) record.subscriptionIds = fields.numbers('subscriptionIds')
  if (fields.has('sharedGroup')) record.sharedGroup = fields.string('sharedGroup')
  if (fields.has('packetId')) record.packetId = fields.number('packetId')
  if (fields.has('state')) record.state = fields.oneOf('state', MESSAGE_STATES)
  return record
}

// ---- packet ids awaiting release, and the schema version ----

/** A release id says everything in its key; the value is only the version, for a later migration. */
export function encodeRelease (): Buffer {
  return writeEnvelope(null)
}

export function checkRelease (key: string, value: Buffer): void {
  readEnvelope(key, value)
}

export function encodeSchema (schema: number): Buffer {
  return writeEnvelope({ schema })
}

export function decodeSchema (key: string, value: Buffer): number {
  const { header } = readEnvelope(key, value)
  return new HeaderFields(key, header).number('schema')
}
