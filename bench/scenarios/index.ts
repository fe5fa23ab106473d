import type { Scenario } from '../scenario.js'
import { connect } from './connect.js'
import { fanIn } from './fan-in.js'
import { fanOut } from './fan-out.js'
import { latency } from './latency.js'
import { memory } from './memory.js'
import { qos1 } from './qos1.js'

/** Every scenario, in run and report order. A new scenario is one more entry. */
export const SCENARIOS: readonly Scenario[] = [fanIn, fanOut, qos1, latency, connect, memory]
