import { execFileSync, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { connect, createServer } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { spawnTracked } from './children.js'

/** The core every broker under test runs on; the load runs on the other one. */
export const BROKER_CORE = 0

/** How a broker is started: a program and its arguments, run pinned to BROKER_CORE. */
export interface LaunchCommand {
  readonly command: string
  readonly args: readonly string[]
}

const READY_TIMEOUT_MS = 15_000
const STOP_GRACE_MS = 1_000
/** Enough of a broker's output to explain why it died, without keeping a flood of logs. */
const OUTPUT_TAIL_BYTES = 4096
const CLOCK_TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100

/** Asks the kernel for a port nobody listens on, so that runs never collide with each other or a stray broker. */
export async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', resolve)
  })
  const address = server.address()
  await new Promise<void>(resolve => server.close(() => resolve()))
  if (address === null || typeof address === 'string') throw new Error('could not pick a free port')
  return address.port
}

/** One broker process under test: pinned to BROKER_CORE, observable through /proc, killed at the end. */
export class BrokerProcess {
  private outputTail = ''
  private exited: Promise<void>

  private constructor (readonly name: string, readonly port: number, private readonly child: ChildProcess) {
    const keep = (chunk: Buffer): void => {
      this.outputTail = (this.outputTail + chunk.toString('utf8')).slice(-OUTPUT_TAIL_BYTES)
    }
    child.stdout?.on('data', keep)
    child.stderr?.on('data', keep)
    this.exited = new Promise(resolve => child.once('exit', () => resolve()))
  }

  static async start (name: string, launch: LaunchCommand, port: number): Promise<BrokerProcess> {
    // taskset execs the broker, so child.pid is the broker's own pid.
    const child = spawnTracked('taskset', ['-c', String(BROKER_CORE), launch.command, ...launch.args], {
      stdio: ['ignore', 'pipe', 'pipe']
    })
    const broker = new BrokerProcess(name, port, child)
    await broker.waitUntilListening()
    return broker
  }

  get pid (): number {
    const pid = this.child.pid
    if (pid === undefined) throw new Error(`${this.name} has no pid: it failed to start`)
    return pid
  }

  get alive (): boolean {
    return this.child.exitCode === null && this.child.signalCode === null
  }

  /** Resident set size in KB, as the kernel counts it (VmRSS), of the broker process alone. */
  rssKb (): number {
    const status = readFileSync(`/proc/${this.pid}/status`, 'utf8')
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)
    if (match === null) throw new Error(`no VmRSS for ${this.name} (pid ${this.pid})`)
    return Number(match[1])
  }

  /** CPU seconds (user + system, all threads) the broker has used so far: tells whether it was the bottleneck. */
  cpuSeconds (): number {
    const stat = readFileSync(`/proc/${this.pid}/stat`, 'utf8')
    // The command name (field 2) may hold spaces; the fields after it are plain numbers.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND
  }

  /** The last lines the broker wrote, for error messages. */
  get output (): string {
    return this.outputTail.trim()
  }

  async stop (): Promise<void> {
    if (!this.alive) return
    this.child.kill('SIGTERM')
    const stopped = await Promise.race([this.exited.then(() => true), sleep(STOP_GRACE_MS).then(() => false)])
    if (!stopped) {
      this.child.kill('SIGKILL')
      await this.exited
    }
  }

  /** Ready means it accepts TCP connections: the one readiness signal every broker shares. */
  private async waitUntilListening (): Promise<void> {
    const deadline = performance.now() + READY_TIMEOUT_MS
    while (performance.now() < deadline) {
      if (!this.alive) throw new Error(`${this.name} exited before listening on port ${this.port}:\n${this.output}`)
      if (await this.accepts()) return
      await sleep(25)
    }
    await this.stop()
    throw new Error(`${this.name} did not listen on port ${this.port} within ${READY_TIMEOUT_MS} ms:\n${this.output}`)
  }

  private async accepts (): Promise<boolean> {
    return await new Promise(resolve => {
      const socket = connect(this.port, '127.0.0.1')
      socket.once('connect', () => { socket.destroy(); resolve(true) })
      socket.once('error', () => { socket.destroy(); resolve(false) })
    })
  }
}
