import type { QoS } from 'mqtt-packet'

/** One level under the explorer's current prefix. */
export interface TopicLevel {
  readonly name: string
  /** The full topic (or topic prefix) of this level. */
  readonly path: string
  /** Topics at or under this level that the explorer knows. */
  readonly topics: number
  /** Messages per second at or under this level, over the last ten seconds. */
  readonly rate: number
  /** Messages at or under this level since the watch came on. */
  readonly count: number
  /** Whether this exact topic holds a retained message. */
  readonly retained: boolean
  /** Whether there are levels under this one. */
  readonly hasChildren: boolean
}

/** Everything the explorer knows of one topic. */
export interface TopicDetail {
  readonly topic: string
  readonly count: number
  readonly rate: number
  readonly bytes: number
  /** The last message published on it while watched. */
  readonly last: { readonly at: number, readonly payload: Buffer, readonly qos: QoS, readonly retain: boolean } | undefined
  readonly retained: { readonly at: number, readonly payload: Buffer, readonly qos: QoS } | undefined
  readonly publishers: ReadonlyArray<{ readonly clientId: string, readonly count: number }>
  readonly subscribers: ReadonlyArray<{ readonly clientId: string, readonly filter: string, readonly qos: QoS, readonly sharedGroup?: string }>
}

/** The topic explorer at one prefix. */
export interface TopicPage {
  /** '' for the root. */
  readonly prefix: string
  readonly levels: readonly TopicLevel[]
  /** Set when the prefix is itself a topic the explorer knows. */
  readonly detail: TopicDetail | undefined
  /** Epoch ms the watch of publishes came on (it stays on ten minutes after the last view). */
  readonly watchingSince: number | undefined
  /** Publishes not watched: more topics than the watch keeps. */
  readonly untracked: number
}

/** Publishers -> topics -> subscribers for the topics a filter matches. */
export interface FlowView {
  readonly filter: string
  readonly topics: ReadonlyArray<{ readonly topic: string, readonly rate: number, readonly count: number }>
  readonly publishers: ReadonlyArray<{ readonly clientId: string, readonly topic: string, readonly count: number }>
  readonly subscribers: ReadonlyArray<{ readonly clientId: string, readonly topic: string, readonly filter: string }>
  /** Topics that matched but were left out, the busiest being shown. */
  readonly omitted: number
  readonly watchingSince: number | undefined
}

/** How a payload can be shown: as text when it is UTF-8, pretty JSON when it parses, and always as hex. */
export interface PayloadViews {
  readonly text: string | undefined
  readonly json: string | undefined
  /** Lines of `offset  hex bytes  ascii`, for the first HEX_BYTES bytes. */
  readonly hex: string
  readonly truncated: boolean
}

const HEX_BYTES = 4096
const TEXT_BYTES = 64 * 1024

export function payloadViews (payload: Buffer): PayloadViews {
  const shown = payload.subarray(0, TEXT_BYTES)
  const text = isUtf8Text(shown) ? shown.toString('utf8') : undefined
  let json: string | undefined
  if (text !== undefined && /^\s*[[{"\d-tfn]/.test(text)) {
    try {
      json = JSON.stringify(JSON.parse(text), null, 2)
    } catch {
      json = undefined
    }
  }
  const lines: string[] = []
  const dumped = payload.subarray(0, HEX_BYTES)
  for (let offset = 0; offset < dumped.length; offset += 16) {
    const row = dumped.subarray(offset, offset + 16)
    const hex = [...row].map(byte => byte.toString(16).padStart(2, '0')).join(' ').padEnd(47)
    const ascii = [...row].map(byte => byte >= 0x20 && byte < 0x7f ? String.fromCharCode(byte) : '.').join('')
    lines.push(`${offset.toString(16).padStart(6, '0')}  ${hex}  ${ascii}`)
  }
  return { text, json, hex: lines.join('\n'), truncated: payload.length > HEX_BYTES }
}

function isUtf8Text (bytes: Buffer): boolean {
  const text = bytes.toString('utf8')
  // No replacement characters (invalid UTF-8) and no control characters other than whitespace.
  return !text.includes('\uFFFD') && !/[\u0000-\u0008\u000E-\u001F]/.test(text)
}
