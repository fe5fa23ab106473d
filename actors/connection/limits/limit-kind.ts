/**
 * Every limit that can refuse, slow down or shed something, named as its option is, so that
 * a count in `TrafficCounters.limited` (and a log line) says which setting to look at.
 */
export const LIMIT_KINDS = [
  'max-connections',
  'max-connections-per-address',
  'max-connection-rate',
  'max-client-id-length',
  'max-topic-length',
  'max-topic-levels',
  'max-subscriptions',
  'max-queued',
  'max-queued-bytes',
  'max-message-rate',
  'max-bandwidth',
  'max-packet-size',
  'memory-watermark'
] as const

export type LimitKind = typeof LIMIT_KINDS[number]

/** Who or what ran into a limit, for the log line: never the payload of a message. */
export interface LimitContext {
  readonly clientId?: string
  readonly address?: string
  readonly [field: string]: unknown
}
