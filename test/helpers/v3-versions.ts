/** The two pre-5 protocol levels, for tests that run once for each. */
export const V3_VERSIONS = [
  { label: 'MQTT 3.1', protocolId: 'MQIsdp', level: 3 },
  { label: 'MQTT 3.1.1', protocolId: 'MQTT', level: 4 }
] as const

export type V3Version = typeof V3_VERSIONS[number]
