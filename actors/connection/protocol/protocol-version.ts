/**
 * What differs between protocol versions, as data: the rest of the broker asks these
 * questions instead of branching on version numbers.
 */
export type ProtocolLevel = 3 | 4 | 5

export interface ProtocolCapabilities {
  readonly level: ProtocolLevel
  readonly name: 'MQTT 3.1' | 'MQTT 3.1.1' | 'MQTT 5.0'
  /** The protocol name CONNECT must carry for this level [MQTT-3.1.2-1]. */
  readonly protocolId: 'MQIsdp' | 'MQTT'
  /** Packets carry v5 reason codes and properties. */
  readonly reasonCodes: boolean
  /** Longest client id the broker must accept (3.1 caps it at 23 characters). */
  readonly maxClientIdLength: number
  /** An empty client id is allowed only with a clean session [MQTT-3.1.3-7][MQTT-3.1.3-8]. */
  readonly emptyClientIdNeedsCleanSession: boolean
  /** An empty client id is refused outright (MQTT 3.1 requires 1 to 23 characters). */
  readonly emptyClientIdRefused: boolean
  /**
   * CONNACK carries the session present flag [MQTT-3.2.2-2]. MQTT 3.1 has a reserved byte
   * there that must stay 0: strict 3.1 clients refuse a CONNACK with it set.
   */
  readonly sessionPresentFlag: boolean
}

const MQTT_3_1: ProtocolCapabilities = {
  level: 3,
  name: 'MQTT 3.1',
  protocolId: 'MQIsdp',
  reasonCodes: false,
  // 3.1 says 23 characters at most; brokers (Mosquitto among them) accept longer ids because
  // real 3.1 clients send them, and so does Troupe.
  maxClientIdLength: 65535,
  emptyClientIdNeedsCleanSession: true,
  emptyClientIdRefused: true,
  sessionPresentFlag: false
}

const MQTT_3_1_1: ProtocolCapabilities = {
  level: 4,
  name: 'MQTT 3.1.1',
  protocolId: 'MQTT',
  reasonCodes: false,
  maxClientIdLength: 65535,
  emptyClientIdNeedsCleanSession: true,
  emptyClientIdRefused: false,
  sessionPresentFlag: true
}

const MQTT_5_0: ProtocolCapabilities = {
  level: 5,
  name: 'MQTT 5.0',
  protocolId: 'MQTT',
  reasonCodes: true,
  maxClientIdLength: 65535,
  emptyClientIdNeedsCleanSession: false,
  emptyClientIdRefused: false,
  sessionPresentFlag: true
}

const BY_LEVEL: Readonly<Record<ProtocolLevel, ProtocolCapabilities>> = { 3: MQTT_3_1, 4: MQTT_3_1_1, 5: MQTT_5_0 }

/** The capabilities for a CONNECT's protocol level, or undefined for a level the broker does not speak. */
export function capabilitiesFor (level: number | undefined): ProtocolCapabilities | undefined {
  return level === 3 || level === 4 || level === 5 ? BY_LEVEL[level] : undefined
}
