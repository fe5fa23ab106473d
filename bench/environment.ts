import { execFileSync } from 'node:child_process'
import { cpus, loadavg } from 'node:os'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { REPO_ROOT } from './brokers.js'

/** What a result depends on besides the code: printed above the table so a pasted table says where it came from. */
export function describeEnvironment (): string {
  const version = (pkg: string): string =>
    (JSON.parse(readFileSync(join(REPO_ROOT, pkg, 'package.json'), 'utf8')) as { version: string }).version
  let mosquitto = 'not found'
  try {
    // mosquitto -h prints its version on the first line and exits with status 3.
    execFileSync('/usr/sbin/mosquitto', ['-h'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
  } catch (error) {
    const stdout = (error as { stdout?: string }).stdout ?? ''
    mosquitto = /version (\S+)/.exec(stdout)?.[1] ?? 'unknown'
  }
  const cpu = cpus()
  return [
    `Troupe ${version('.')}, Aedes ${version('node_modules/aedes')}, Mosquitto ${mosquitto}`,
    `Node ${process.version}, ${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'}`,
    // Other work on the machine competes with the pinned broker for its core: say how much there was.
    `load average ${loadavg()[0]!.toFixed(2)} at start`
  ].join('; ')
}
