import type { ProtocolCapabilities } from './protocol-version.js'

/**
 * MQTT 5.0 reason codes are the broker's own vocabulary for outcomes. Older protocol levels
 * get them translated here, in one place, and nowhere else.
 */
export const ReasonCode = {
  Success: 0x00,
  GrantedQoS1: 0x01,
  GrantedQoS2: 0x02,
  NormalDisconnection: 0x00,
  DisconnectWithWill: 0x04,
  NoMatchingSubscribers: 0x10,
  NoSubscriptionExisted: 0x11,
  ContinueAuthentication: 0x18,
  ReAuthenticate: 0x19,
  UnspecifiedError: 0x80,
  MalformedPacket: 0x81,
  ProtocolError: 0x82,
  ImplementationSpecificError: 0x83,
  UnsupportedProtocolVersion: 0x84,
  ClientIdentifierNotValid: 0x85,
  BadUserNameOrPassword: 0x86,
  NotAuthorized: 0x87,
  ServerUnavailable: 0x88,
  ServerBusy: 0x89,
  Banned: 0x8a,
  ServerShuttingDown: 0x8b,
  BadAuthenticationMethod: 0x8c,
  KeepAliveTimeout: 0x8d,
  SessionTakenOver: 0x8e,
  TopicFilterInvalid: 0x8f,
  TopicNameInvalid: 0x90,
  PacketIdentifierInUse: 0x91,
  PacketIdentifierNotFound: 0x92,
  ReceiveMaximumExceeded: 0x93,
  TopicAliasInvalid: 0x94,
  PacketTooLarge: 0x95,
  MessageRateTooHigh: 0x96,
  QuotaExceeded: 0x97,
  AdministrativeAction: 0x98,
  PayloadFormatInvalid: 0x99,
  RetainNotSupported: 0x9a,
  QoSNotSupported: 0x9b,
  UseAnotherServer: 0x9c,
  ServerMoved: 0x9d,
  SharedSubscriptionsNotSupported: 0x9e,
  ConnectionRateExceeded: 0x9f,
  MaximumConnectTime: 0xa0,
  SubscriptionIdentifiersNotSupported: 0xa1,
  WildcardSubscriptionsNotSupported: 0xa2
} as const

export type ReasonCodeValue = typeof ReasonCode[keyof typeof ReasonCode]

/** MQTT 3.1/3.1.1 CONNACK return codes [MQTT-3.2.2-4][MQTT-3.2.2-5]. */
const V3_CONNACK: ReadonlyMap<number, number> = new Map([
  [ReasonCode.Success, 0],
  [ReasonCode.UnsupportedProtocolVersion, 1],
  [ReasonCode.ClientIdentifierNotValid, 2],
  [ReasonCode.ServerUnavailable, 3],
  [ReasonCode.ServerBusy, 3],
  [ReasonCode.ServerShuttingDown, 3],
  [ReasonCode.BadUserNameOrPassword, 4],
  [ReasonCode.BadAuthenticationMethod, 4],
  [ReasonCode.NotAuthorized, 5],
  [ReasonCode.Banned, 5]
])

/** The CONNACK code to send: the reason code itself for v5, its v3 return code otherwise. */
export function connackCode (protocol: ProtocolCapabilities, reason: number): number {
  if (protocol.reasonCodes) return reason
  return V3_CONNACK.get(reason) ?? 3
}

/** The SUBACK code for one filter: granted QoS, or a failure (0x80 is the only v3 failure) [MQTT-3.9.3-2]. */
export function subackCode (protocol: ProtocolCapabilities, reason: number): number {
  if (protocol.reasonCodes || reason < 0x80) return reason
  return 0x80
}
