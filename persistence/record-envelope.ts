import { describeKey } from './level-keys.js'
import { StoreError } from './store.js'

/**
 * The framing of every value the LevelDB store writes:
 *
 *   [u8 format version][u32 BE header length][header: JSON, UTF-8]
 *   then per blob: [u32 BE length][bytes]
 *
 * The version byte comes first so that a later release can tell old records from new ones and
 * migrate them. Payloads and correlation data travel as blobs, byte for byte: base64 inside
 * the JSON would cost a third more disk and an encode and decode on every message.
 */
export const RECORD_FORMAT_VERSION = 1

const LENGTH_BYTES = 4

/** A JSON-serialisable header; blobs are referred to from it by their index. */
export type HeaderValue = string | number | boolean | null | readonly HeaderValue[] | { readonly [field: string]: HeaderValue | undefined }

export interface Envelope {
  readonly header: unknown
  readonly blobs: readonly Buffer[]
}

/** Collects the binary parts of a record while its header is built, handing out their indexes. */
export class BlobList {
  readonly blobs: Buffer[] = []

  add (bytes: Buffer): number {
    this.blobs.push(bytes)
    return this.blobs.length - 1
  }
}

export function writeEnvelope (header: HeaderValue, blobs: readonly Buffer[] = []): Buffer {
  const json = Buffer.from(JSON.stringify(header), 'utf8')
  let size = 1 + LENGTH_BYTES + json.length
  for (const blob of blobs) size += LENGTH_BYTES + blob.length
  const value = Buffer.allocUnsafe(size)
  value[0] = RECORD_FORMAT_VERSION
  value.writeUInt32BE(json.length, 1)
  let at = 1 + LENGTH_BYTES + json.copy(value, 1 + LENGTH_BYTES)
  for (const blob of blobs) {
    value.writeUInt32BE(blob.length, at)
    at += LENGTH_BYTES
    at += blob.copy(value, at)
  }
  return value
}

/** Reads back what `writeEnvelope` wrote; a value it cannot read throws a StoreError naming its key. */
export function readEnvelope (key: string, value: Buffer): Envelope {
  if (value.length === 0) throw damaged(key, 'it is empty')
  if (value[0] !== RECORD_FORMAT_VERSION) {
    throw new StoreError(`${describeKey(key)} has record format version ${value[0]}, which this Troupe release does not know (it reads version ${RECORD_FORMAT_VERSION}): ` +
      'run the Troupe release that wrote this data directory, or move the directory away to start empty')
  }
  if (value.length < 1 + LENGTH_BYTES) throw damaged(key, 'it ends inside its header length')
  const headerLength = value.readUInt32BE(1)
  let at = 1 + LENGTH_BYTES + headerLength
  if (at > value.length) throw damaged(key, 'it ends inside its header')
  let header: unknown
  try {
    header = JSON.parse(value.toString('utf8', 1 + LENGTH_BYTES, at))
  } catch (error) {
    throw damaged(key, `its header is not valid JSON (${(error as Error).message})`)
  }
  const blobs: Buffer[] = []
  while (at < value.length) {
    if (at + LENGTH_BYTES > value.length) throw damaged(key, 'it ends inside a blob length')
    const length = value.readUInt32BE(at)
    at += LENGTH_BYTES
    if (at + length > value.length) throw damaged(key, 'it ends inside a blob')
    // A view, not a copy: LevelDB hands every value over in its own buffer.
    blobs.push(value.subarray(at, at + length))
    at += length
  }
  return { header, blobs }
}

export function damaged (key: string, why: string): StoreError {
  return new StoreError(`${describeKey(key)} is damaged: ${why}; restore the data directory from a backup, or move it away to start empty`)
}
