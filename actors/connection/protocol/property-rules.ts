/**
 * Which MQTT 5 properties each packet may carry [MQTT-2.2.2-2 (v5)], as data. A property
 * outside its packet's list, or a repeated one that may appear only once, is a Protocol
 * Error (0x82). Names are mqtt-packet's.
 */
export type PropertyScope =
  | 'connect' | 'will' | 'connack' | 'publish' | 'puback' | 'pubrec' | 'pubrel' | 'pubcomp'
  | 'subscribe' | 'suback' | 'unsubscribe' | 'unsuback' | 'disconnect' | 'auth'

const ACK = ['reasonString', 'userProperties'] as const

export const ALLOWED_PROPERTIES: Readonly<Record<PropertyScope, ReadonlySet<string>>> = {
  connect: new Set(['sessionExpiryInterval', 'authenticationMethod', 'authenticationData', 'requestProblemInformation', 'requestResponseInformation', 'receiveMaximum', 'topicAliasMaximum', 'userProperties', 'maximumPacketSize']),
  will: new Set(['payloadFormatIndicator', 'messageExpiryInterval', 'contentType', 'responseTopic', 'correlationData', 'willDelayInterval', 'userProperties']),
  connack: new Set(['sessionExpiryInterval', 'assignedClientIdentifier', 'serverKeepAlive', 'authenticationMethod', 'authenticationData', 'responseInformation', 'serverReference', 'reasonString', 'receiveMaximum', 'topicAliasMaximum', 'maximumQoS', 'retainAvailable', 'userProperties', 'maximumPacketSize', 'wildcardSubscriptionAvailable', 'subscriptionIdentifiersAvailable', 'sharedSubscriptionAvailable']),
  publish: new Set(['payloadFormatIndicator', 'messageExpiryInterval', 'contentType', 'responseTopic', 'correlationData', 'subscriptionIdentifier', 'topicAlias', 'userProperties']),
  puback: new Set(ACK),
  pubrec: new Set(ACK),
  pubrel: new Set(ACK),
  pubcomp: new Set(ACK),
  subscribe: new Set(['subscriptionIdentifier', 'userProperties']),
  suback: new Set(ACK),
  unsubscribe: new Set(['userProperties']),
  unsuback: new Set(ACK),
  disconnect: new Set(['sessionExpiryInterval', 'serverReference', 'reasonString', 'userProperties']),
  auth: new Set(['authenticationMethod', 'authenticationData', 'reasonString', 'userProperties'])
}

/** Properties that may appear more than once: user properties anywhere, subscription ids on PUBLISH. */
export function mayRepeat (scope: PropertyScope, name: string): boolean {
  return name === 'userProperties' || (scope === 'publish' && name === 'subscriptionIdentifier')
}

/** An ordered list of user properties: order is kept end to end [MQTT-3.3.2-18]. */
export type UserPropertyList = ReadonlyArray<readonly [string, string]>
