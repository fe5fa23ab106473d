import type { QoS } from 'mqtt-packet'
import { enforcedAuthorizer, type ClientIdentity, type Permission } from './authorizer.js'
import type { BrokerServices } from './broker-services.js'
import { isSysTopic } from './sys-topics.js'

/**
 * Whether `client` may publish on `topic`, as a PUBLISH or as its will: never on `$SYS`, and
 * otherwise as the broker's authorizer says (without asking when it allows everything), now
 * or, from an auth provider, later.
 */
export function mayPublish (broker: BrokerServices, client: ClientIdentity, topic: string, qos: QoS, retain: boolean): Permission {
  if (isSysTopic(topic)) return false
  const authorizer = enforcedAuthorizer(broker.authorizer)
  return authorizer === undefined || authorizer.authorizePublish({ clientId: client.clientId, username: client.username, topic, qos, retain })
}
