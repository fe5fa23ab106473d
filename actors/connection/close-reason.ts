import { ReasonCode } from './protocol/reason-codes.js'

export type CloseKind =
  | 'client-disconnect'
  | 'client-disconnect-with-will'
  | 'socket-closed'
  | 'socket-error'
  | 'keepalive-timeout'
  | 'connect-timeout'
  | 'malformed-packet'
  | 'protocol-error'
  | 'packet-too-large'
  | 'topic-alias-invalid'
  | 'receive-maximum-exceeded'
  | 'payload-format-invalid'
  | 'topic-name-invalid'
  | 'connect-refused'
  | 'not-authorized'
  | 'session-taken-over'
  | 'server-shutdown'
  | 'administrative-action'
  | 'store-failed'

/** Why a connection ended, and what that means for its will [MQTT-3.1.2-8][MQTT-3.14.4-3]. */
export interface CloseReason {
  readonly kind: CloseKind
  /** The v5 DISCONNECT reason code the broker sends (where it sends one). */
  readonly reasonCode: number
  /** Whether the will, if any, is published: every end except a client's own DISCONNECT. */
  readonly publishWill: boolean
  /** Words for the log and the monitor. */
  readonly detail: string
}

const REASON_CODES: Readonly<Record<CloseKind, number>> = {
  'client-disconnect': ReasonCode.NormalDisconnection,
  'client-disconnect-with-will': ReasonCode.DisconnectWithWill,
  'socket-closed': ReasonCode.UnspecifiedError,
  'socket-error': ReasonCode.UnspecifiedError,
  'keepalive-timeout': ReasonCode.KeepAliveTimeout,
  'connect-timeout': ReasonCode.MaximumConnectTime,
  'malformed-packet': ReasonCode.MalformedPacket,
  'protocol-error': ReasonCode.ProtocolError,
  'packet-too-large': ReasonCode.PacketTooLarge,
  'topic-alias-invalid': ReasonCode.TopicAliasInvalid,
  'receive-maximum-exceeded': ReasonCode.ReceiveMaximumExceeded,
  'payload-format-invalid': ReasonCode.PayloadFormatInvalid,
  'topic-name-invalid': ReasonCode.TopicNameInvalid,
  'connect-refused': ReasonCode.UnspecifiedError,
  'not-authorized': ReasonCode.NotAuthorized,
  'session-taken-over': ReasonCode.SessionTakenOver,
  'server-shutdown': ReasonCode.ServerShuttingDown,
  'administrative-action': ReasonCode.AdministrativeAction,
  'store-failed': ReasonCode.UnspecifiedError
}

/** Ends that leave nothing to announce: the client said goodbye, or the broker is going away. */
// A store failure is the broker's trouble, not a sign that the client went away.
const WITHOUT_WILL = new Set<CloseKind>(['client-disconnect', 'connect-refused', 'connect-timeout', 'server-shutdown', 'store-failed'])

export function closeReason (kind: CloseKind, detail: string): CloseReason {
  return { kind, reasonCode: REASON_CODES[kind], publishWill: !WITHOUT_WILL.has(kind), detail }
}
