import type { QoS } from 'mqtt-packet'
import type { Message } from '../router/message.js'

/** One message on its way to one session: the message plus what this subscriber gets of it. */
export interface Delivery {
  readonly message: Message
  /** min(publish QoS, granted QoS) [MQTT-3.8.4-6]. */
  readonly qos: QoS
  /** The retain flag as this subscriber must see it [MQTT-3.3.1-8][MQTT-3.3.1-9]. */
  readonly retain: boolean
  readonly subscriptionIds?: readonly number[]
  /** The shared subscription (`$share/name/filter`) that chose this session, if any. */
  readonly sharedGroup?: string
}
