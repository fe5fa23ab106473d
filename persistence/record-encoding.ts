import type { QoS } from 'mqtt-packet'
import type { MessageProperties } from '../actors/router/message.js'
import type { Subscription } from '../actors/router/subscription.js'
import { HeaderFields } from './header-fields.js'
import { BlobList, damaged, readEnvelope, writeEnvelope, type HeaderValue } from './record-envelope.js'
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

/*
 * Session messages are the one record written per message under load, so their common part is
 * binary rather than JSON (JSON.stringify was a tenth of the broker's time on LevelDB):
 *
 *   [u8 format 2][u8 flags][f64 receivedAt][u16 topic length][topic]
 *   ([u16 origin length][origin])? ([u16 packet id][u8 state])? [u32 payload length][payload]
 *   (an envelope with the rest: properties, subscription ids, shared group)?
 *
 * flags: bits 0-1 the subscriber's QoS, bit 2 its retain flag, bits 3-4 the message's QoS,
 * bit 5 the message's retain flag, bit 6 an origin follows, bit 7 a packet id and state follow;
 * the envelope is there when bytes are left after the payload.
 */
const SESSION_MESSAGE_FORMAT = 2
const HAS_ORIGIN = 0x40
const WAS_SENT = 0x80

/** What writing a session message needs worked out first: its size, and its rare JSON part. */
export interface SessionMessageLayout {
  readonly size: number
  readonly rest: Buffer | undefined
}

export function layoutSessionMessage (record: SessionMessageRecord): SessionMessageLayout {
  const { message } = record
  const hasRest = message.properties !== undefined || record.subscriptionIds !== undefined || record.sharedGroup !== undefined
  const rest = hasRest ? sessionMessageRest(record) : undefined
  const size = 2 + 8 + 2 + Buffer.byteLength(message.topic) + (message.origin === undefined ? 0 : 2 + Buffer.byteLength(message.origin)) +
    (isSent(record) ? 3 : 0) + 4 + message.payload.length + (rest?.length ?? 0)
  return { size, rest }
}

/**
 * Writes a session message into `target` at `at`, where `layout.size` bytes are free, and
 * returns the offset after it: a segment's records are written in place, not copied in.
 */
export function writeSessionMessage (record: SessionMessageRecord, layout: SessionMessageLayout, target: Buffer, at: number): number {
  const { message } = record
  const sent = isSent(record)
  target[at] = SESSION_MESSAGE_FORMAT
  target[at + 1] = record.qos | (record.retain ? 4 : 0) | (message.qos << 3) | (message.retain ? 0x20 : 0) | (message.origin !== undefined ? HAS_ORIGIN : 0) | (sent ? WAS_SENT : 0)
  at = target.writeDoubleBE(message.receivedAt, at + 2)
  at = writeShortString(target, message.topic, at)
  if (message.origin !== undefined) at = writeShortString(target, message.origin, at)
  if (sent) {
    at = target.writeUInt16BE(record.packetId!, at)
    target[at++] = MESSAGE_STATES.indexOf(record.state!)
  }
  at = target.writeUInt32BE(message.payload.length, at)
  at += message.payload.copy(target, at)
  if (layout.rest !== undefined) at += layout.rest.copy(target, at)
  return at
}

function isSent (record: SessionMessageRecord): boolean {
  return record.packetId !== undefined && record.state !== undefined
}

/** [u16 length][UTF-8 bytes]: the text goes first, then its length in front of it. */
function writeShortString (target: Buffer, text: string, at: number): number {
  const length = target.write(text, at + 2)
  target.writeUInt16BE(length, at)
  return at + 2 + length
}

/** What few messages have, in the JSON envelope every other record uses. */
function sessionMessageRest (record: SessionMessageRecord): Buffer {
  const blobs = new BlobList()
  return writeEnvelope({
    properties: record.message.properties === undefined ? undefined : propertiesHeader(record.message.properties, blobs),
    subscriptionIds: record.subscriptionIds,
    sharedGroup: record.sharedGroup
  }, blobs.blobs)
}

export function decodeSessionMessage (key: string, clientId: string, seq: number, value: Buffer): SessionMessageRecord {
  let at = 0
  const need = (bytes: number, what: string): void => {
    if (at + bytes > value.length) throw damaged(key, value.length === 0 ? 'it is empty' : `it ends inside its ${what}`)
  }
  need(1, 'format')
  if (value[0] !== SESSION_MESSAGE_FORMAT) throw damaged(key, `it is not a session message of format ${SESSION_MESSAGE_FORMAT}`)
  need(2 + 8 + 2, 'fixed fields')
  const flags = value[1]!
  const receivedAt = value.readDoubleBE(2)
  const topicLength = value.readUInt16BE(10)
  at = 12
  need(topicLength, 'topic')
  const topic = value.toString('utf8', at, at += topicLength)
  let origin: string | undefined
  if ((flags & HAS_ORIGIN) !== 0) {
    need(2, 'origin length')
    const length = value.readUInt16BE(at)
    at += 2
    need(length, 'origin')
    origin = value.toString('utf8', at, at += length)
  }
  let packetId: number | undefined
  let state: StoredMessageState | undefined
  if ((flags & WAS_SENT) !== 0) {
    need(3, 'packet id and state')
    packetId = value.readUInt16BE(at)
    state = MESSAGE_STATES[value[at + 2]!]
    if (state === undefined) throw damaged(key, `its state ${value[at + 2]} is unknown`)
    at += 3
  }
  need(4, 'payload length')
  const payloadLength = value.readUInt32BE(at)
  at += 4
  need(payloadLength, 'payload')
  const payload = value.subarray(at, at += payloadLength)
  const qos = flags & 3
  const messageQos = (flags >> 3) & 3
  if (qos > 2 || messageQos > 2) throw damaged(key, 'its QoS is not 0, 1 or 2')
  const message: { -readonly [F in keyof StoredMessage]: StoredMessage[F] } = { topic, payload, qos: messageQos as QoS, retain: (flags & 0x20) !== 0, receivedAt }
  if (origin !== undefined) message.origin = origin
  const record: { -readonly [F in keyof SessionMessageRecord]: SessionMessageRecord[F] } = { clientId, seq, message, qos: qos as QoS, retain: (flags & 4) !== 0 }
  if (packetId !== undefined) {
    record.packetId = packetId
    record.state = state
  }
  if (at < value.length) {
    const { header, blobs } = readEnvelope(key, value.subarray(at))
    const fields = new HeaderFields(key, header)
    if (fields.has('properties')) message.properties = readProperties(fields.object('properties'), blobs)
    if (fields.has('subscriptionIds')) record.subscriptionIds = fields.numbers('subscriptionIds')
    if (fields.has('sharedGroup')) record.sharedGroup = fields.string('sharedGroup')
  }
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
