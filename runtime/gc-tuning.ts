import { setFlagsFromString } from 'node:v8'

/**
 * Turns off V8's allocation-site pretenuring for the broker process. Imported first by the
 * CLI, before any module that allocates on the data path.
 *
 * Why: with it on, V8 watches each object-literal allocation site and, when every object a
 * site made was still alive at a scavenge, allocates that site's objects straight in the old
 * generation from then on. On the broker's data path that misfires: the per-chunk objects
 * (the event of a socket chunk, the arrays of parsed packets, xstate's per-event records)
 * are all reachable at one scavenge, from the chunk being handled, so their sites get
 * pretenured; each of those short-lived old objects then keeps the young packets, topics and
 * payloads it points to alive through every scavenge until the next full GC. Measured at
 * 5k msgs/s (`npm run bench -- --only latency`, and `node --trace-gc`): scavenges every
 * 0.75 s took 7-9 ms and promoted about 1.3 MB each, which made p99 latency about 3 ms;
 * without pretenuring they take under 1 ms, promote nothing, and p99 falls to about 1.4 ms.
 * Long-lived broker state (sessions, subscriptions) still reaches the old generation the
 * usual way, by surviving two scavenges.
 *
 * V8 reads this flag at each scavenge, so setting it after start-up takes effect for every
 * decision from then on.
 */
setFlagsFromString('--no-allocation-site-pretenuring')
