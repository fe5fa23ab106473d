import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'

/** The core the load generators (this process) run on; brokers get BROKER_CORE. */
export const LOAD_CORE = 1
/** File descriptors this process needs besides the benchmark's sockets. */
const SPARE_DESCRIPTORS = 200

/**
 * Makes this process the load process: pinned to LOAD_CORE (every thread: `-a`, so libuv's and
 * V8's helper threads too) and allowed as many open files as the hard limit permits. Brokers are
 * spawned later, so they inherit the file limit; their own pinning overrides this one.
 */
export function prepareLoadProcess (socketsNeeded: number): string[] {
  const warnings: string[] = []
  execFileSync('taskset', ['-a', '-cp', String(LOAD_CORE), String(process.pid)], { stdio: 'ignore' })
  const allowed = /^Cpus_allowed_list:\s*(\S+)/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]
  if (allowed !== String(LOAD_CORE)) warnings.push(`could not pin the load process to core ${LOAD_CORE} (allowed: ${String(allowed)})`)

  // Only root may raise the hard limit, and a container may forbid even that: use what there is.
  const hard = execFileSync('sh', ['-c', 'ulimit -Hn'], { encoding: 'utf8' }).trim()
  const limit = hard === 'unlimited' ? '1048576' : hard
  try {
    execFileSync('prlimit', ['--pid', String(process.pid), `--nofile=${limit}:${limit}`], { stdio: 'ignore' })
  } catch {
    warnings.push(`could not raise the open-file limit to ${limit}`)
  }
  const soft = Number(execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim())
  if (Number.isFinite(soft) && soft < socketsNeeded + SPARE_DESCRIPTORS) {
    warnings.push(`open-file limit ${soft} is below the ${socketsNeeded + SPARE_DESCRIPTORS} the memory scenario needs: lower --idle`)
  }
  return warnings
}

/**
 * Keeps the event loop from ever sleeping: a pending setImmediate makes libuv poll with a zero
 * timeout. Under this hypervisor waking a halted vCPU is costly, and over loopback the broker
 * is the one that pays for waking its clients; a spinning load takes that cost off the broker,
 * as clients on other machines would. The price: the load's CPU reads 1.0 whether busy or not.
 */
export function spinEventLoop (): () => void {
  let spinning = true
  const spin = (): void => { if (spinning) setImmediate(spin) }
  spin()
  return () => { spinning = false }
}
