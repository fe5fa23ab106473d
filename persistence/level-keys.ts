import { StoreError } from './store.js'

/**
 * The key layout of the LevelDB store. LevelDB sorts keys bytewise, so the layout is chosen
 * for the reads the store makes:
 *
 *   s\0<clientId>                    session record
 *   m\0<clientId>\0<segment, 16 hex> session messages written in one batch (level-segments.ts)
 *   p\0<clientId>\0<packetId, 4 hex> inbound QoS 2 packet id awaiting PUBREL
 *   r\0<topic>                       retained message
 *   meta\0schema                     schema version of the whole layout
 *
 * U+0000 separates the parts because MQTT strings cannot contain it [MQTT-1.5.4-2] (the
 * connection refuses such packets), so `m\0a\0` can never be the start of a key of client
 * `a\0…`: all messages of client `a` are one range, and client `ab` lies outside it.
 * Numbers are fixed-width lowercase hex, so their byte order is their numeric order
 * (seq 2 before seq 10, which decimal strings would get wrong).
 */

const SEPARATOR = '\u0000'
/** The code unit right after the separator: `<prefix>\u0001` is the exclusive end of a range. */
const AFTER_SEPARATOR = '\u0001'

const SESSION = 's'
const MESSAGE = 'm'
const RELEASE = 'p'
const RETAINED = 'r'

export const SCHEMA_KEY = `meta${SEPARATOR}schema`

/** A half-open key range [gte, lt), in the shape LevelDB iterators take. */
export interface KeyRange {
  readonly gte: string
  readonly lt: string
}

const SEQ_DIGITS = 16
const PACKET_ID_DIGITS = 4

function rangeOf (prefix: string): KeyRange {
  return { gte: prefix, lt: prefix.slice(0, -1) + AFTER_SEPARATOR }
}

function checked (what: string, value: string): string {
  // Unreachable through the protocol; a NUL here would let one client's keys reach into another's.
  if (value.includes(SEPARATOR)) {
    throw new StoreError(`cannot store ${what} ${JSON.stringify(value)}: it contains U+0000, which MQTT forbids; this is a broker bug, please report it`)
  }
  return value
}

function hex (value: number, digits: number, what: string, max: number): string {
  if (!Number.isSafeInteger(value) || value < 0 || value > max) {
    throw new StoreError(`cannot store ${what} ${value}: it must be an integer from 0 to ${max}; this is a broker bug, please report it`)
  }
  return value.toString(16).padStart(digits, '0')
}

export const sessionKey = (clientId: string): string => `${SESSION}${SEPARATOR}${checked('client id', clientId)}`
export const segmentKey = (clientId: string, segment: number): string =>
  `${MESSAGE}${SEPARATOR}${checked('client id', clientId)}${SEPARATOR}${hex(segment, SEQ_DIGITS, 'segment number', Number.MAX_SAFE_INTEGER)}`
export const releaseKey = (clientId: string, packetId: number): string =>
  `${RELEASE}${SEPARATOR}${checked('client id', clientId)}${SEPARATOR}${hex(packetId, PACKET_ID_DIGITS, 'packet id', 0xFFFF)}`
export const retainedKey = (topic: string): string => `${RETAINED}${SEPARATOR}${checked('topic', topic)}`

/** Every key of one kind. */
export const ALL_SESSIONS = rangeOf(`${SESSION}${SEPARATOR}`)
export const ALL_MESSAGES = rangeOf(`${MESSAGE}${SEPARATOR}`)
export const ALL_RELEASES = rangeOf(`${RELEASE}${SEPARATOR}`)
export const ALL_RETAINED = rangeOf(`${RETAINED}${SEPARATOR}`)

/** The release ids of one client: what `session.delete` lists to remove (its segments the store knows). */
export function releaseRange (clientId: string): KeyRange {
  return rangeOf(`${RELEASE}${SEPARATOR}${checked('client id', clientId)}${SEPARATOR}`)
}

/** A client id and a number read back from a message or release key. */
export interface NumberedKey {
  readonly clientId: string
  readonly number: number
}

function parseNumbered (key: string, digits: number): NumberedKey {
  const separatorAt = key.length - digits - 1
  const number = Number.parseInt(key.slice(separatorAt + 1), 16)
  if (separatorAt < 2 || key[separatorAt] !== SEPARATOR || !Number.isSafeInteger(number)) {
    throw new StoreError(`the database holds a malformed key ${JSON.stringify(key)}: the data directory is damaged; restore it from a backup or move it away to start empty`)
  }
  return { clientId: key.slice(2, separatorAt), number }
}

export const clientIdOfSessionKey = (key: string): string => key.slice(2)
export const parseSegmentKey = (key: string): NumberedKey => parseNumbered(key, SEQ_DIGITS)
export const parseReleaseKey = (key: string): NumberedKey => parseNumbered(key, PACKET_ID_DIGITS)

/** Names a key for people, for error messages that must say which record is damaged. */
export function describeKey (key: string): string {
  const exact = JSON.stringify(key)
  if (key === SCHEMA_KEY) return `the schema record (key ${exact})`
  if (key.startsWith(ALL_SESSIONS.gte)) return `the session record of client ${JSON.stringify(clientIdOfSessionKey(key))} (key ${exact})`
  if (key.startsWith(ALL_RETAINED.gte)) return `the retained message of topic ${JSON.stringify(key.slice(2))} (key ${exact})`
  if (key.startsWith(ALL_MESSAGES.gte) || key.startsWith(ALL_RELEASES.gte)) {
    try {
      const { clientId, number } = key.startsWith(ALL_MESSAGES.gte) ? parseSegmentKey(key) : parseReleaseKey(key)
      return key.startsWith(ALL_MESSAGES.gte)
        ? `message segment ${number} of session ${JSON.stringify(clientId)} (key ${exact})`
        : `packet id ${number} awaiting release in session ${JSON.stringify(clientId)} (key ${exact})`
    } catch {
      // A malformed key still gets named exactly.
    }
  }
  return `the record with key ${exact}`
}
