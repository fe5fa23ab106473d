import { connect } from 'node:net'
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises'
import type { HostileScript } from './hostile-script.js'
import type { SeededRandom } from './seeded-random.js'

/** How one fuzz connection went. */
export interface HostileOutcome {
  readonly connected: boolean
  readonly packetsSent: number
  readonly bytesSent: number
  /** The broker closed it (or reset it) before the fuzzer let go. */
  readonly closedByBroker: boolean
  /** The broker still held it open when the fuzzer's patience ran out. */
  readonly timedOut: boolean
}

/**
 * Plays a script over a real TCP socket. It never waits for an answer: whatever the broker
 * sends is read and thrown away (so the broker is never held up by a full socket), and a
 * connection the broker keeps open is cut after `lingerMs`.
 */
export async function playScript (port: number, script: HostileScript, random: SeededRandom, lingerMs: number): Promise<HostileOutcome> {
  const socket = connect({ host: '127.0.0.1', port })
  let closed = false
  let letGo = false
  let closedByBroker = false
  const whenClosed = new Promise<void>(resolve => socket.once('close', () => {
    closed = true
    if (!letGo) closedByBroker = true
    resolve()
  }))
  socket.on('error', () => {}) // resets and refused writes are expected: the broker hangs up on garbage
  socket.on('data', () => {})
  const connected = await Promise.race([
    new Promise<boolean>(resolve => socket.once('connect', () => resolve(true))),
    whenClosed.then(() => false)
  ])
  let packetsSent = 0
  let bytesSent = 0
  for (let i = 0; connected && i < script.packets.length && !closed; i++) {
    const packet = script.packets[i]!
    // Sometimes one packet in several writes, so the broker sees it arrive in pieces.
    if (packet.length > 1 && random.chance(0.15)) {
      const cut = random.between(1, packet.length - 1)
      socket.write(packet.subarray(0, cut))
      await nextTurn()
      if (closed) break
      socket.write(packet.subarray(cut))
    } else {
      socket.write(packet)
    }
    packetsSent++
    bytesSent += packet.length
    // Usually several packets per chunk; now and then a pause lets the broker answer in between.
    if (random.chance(0.25)) await nextTurn()
    if (socket.writableNeedDrain) await Promise.race([new Promise(resolve => socket.once('drain', resolve)), whenClosed])
  }
  let timedOut = false
  if (connected && !closed) {
    if (script.ending === 'linger') {
      timedOut = await Promise.race([whenClosed.then(() => false), sleep(lingerMs, true)])
    } else if (script.ending === 'half-close') {
      socket.end()
      timedOut = await Promise.race([whenClosed.then(() => false), sleep(lingerMs, true)])
    }
  }
  letGo = true
  socket.destroy()
  await whenClosed
  return { connected, packetsSent, bytesSent, closedByBroker, timedOut }
}
