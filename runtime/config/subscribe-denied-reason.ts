import type { ConnectionSettings } from '../../actors/connection/broker-services.js'
import { ReasonCode } from '../../actors/connection/protocol/reason-codes.js'

/**
 * The `subscribe-denied-reason` option: what an MQTT 5 SUBACK says for a filter the access
 * rules refuse. 0x87 Not authorized tells the client why; 0x80 Unspecified error is MQTT 3's
 * only failure code, for deployments whose v5 clients should see what v3 clients see, or that
 * do not want to reveal that an access rule was the reason. MQTT 3 clients get 0x80 either way.
 */
export const SUBSCRIBE_DENIED_REASONS = ['not-authorized', 'unspecified'] as const
export type SubscribeDeniedReason = typeof SUBSCRIBE_DENIED_REASONS[number]

/** The v5 SUBACK reason code for `reason`. */
export function subscribeDeniedCode (reason: SubscribeDeniedReason): ConnectionSettings['subscribeDeniedReason'] {
  return reason === 'unspecified' ? ReasonCode.UnspecifiedError : ReasonCode.NotAuthorized
}
