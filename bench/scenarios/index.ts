import type { Scenario } from '../scenario.js'
import { connect } from './connect.js'
import { fanIn } from './fan-in.js'
import { fanOut } from './fan-out.js'
import { latency } from './latency.js'
import { memory } from './memory.js'
import { qos1 } from './qos1.js'

/** Every scenario, in run and report order. A new scenario is one more entry. */
export const SCENARIOS: readonly Scenario[] = [fanIn, fanOut, qos1, latency, connect, memory]

/**
 * The scenarios that also run on MQTT 5.0 when the main run is 3.1.1: the message paths whose
 * encoding differs between the versions, where issue 3 allows 5.0 at most 15 % off 3.1.1.
 */
export const MQTT5_COMPARED: readonly Scenario[] = [fanIn, fanOut, qos1]
