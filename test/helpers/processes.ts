import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'

/**
 * Child processes for tests (third-party MQTT clients, the real CLI): every process started
 * here is tracked until it exits, so an after-hook's `killAll()` (and, as a last resort, this
 * process's own exit) leaves nothing running even when a test fails half-way.
 */

export interface RunOptions {
  /** The process is killed (SIGKILL) and `run` rejects if it is still running after this. */
  readonly timeoutMs: number
  /** Written to stdin, which is then closed; without it stdin is empty. */
  readonly input?: string | Buffer
  /** The whole environment of the child; defaults to this process's. */
  readonly env?: NodeJS.ProcessEnv
  readonly cwd?: string
}

export interface RunResult {
  /** Exit code, or null when a signal ended the process. */
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
}

export interface Exit {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
}

export interface SpawnOptions {
  readonly env?: NodeJS.ProcessEnv
  readonly cwd?: string
  /** Keep stdin open as a pipe for `write`; otherwise stdin is /dev/null. */
  readonly stdin?: boolean
}

const live = new Set<TrackedProcess>()

/** A running child process whose output is kept, line by line, for the test to wait on. */
export class TrackedProcess {
  readonly child: ChildProcess
  stdout = ''
  stderr = ''
  /** Resolves when the process has exited and its output streams have closed. */
  readonly exited: Promise<Exit>
  private exit: Exit | undefined
  private readonly waiters = new Set<() => void>()

  constructor (readonly command: string, readonly args: readonly string[], options: SpawnOptions = {}) {
    this.child = spawn(command, args, {
      env: options.env ?? process.env,
      cwd: options.cwd,
      stdio: [options.stdin === true ? 'pipe' : 'ignore', 'pipe', 'pipe']
    })
    live.add(this)
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => { this.stdout += chunk; this.wake() })
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => { this.stderr += chunk; this.wake() })
    // A child that dies while the test writes to it must not crash the test process.
    this.child.stdin?.on('error', () => {})
    this.exited = new Promise<Exit>((resolve, reject) => {
      this.child.once('error', error => { live.delete(this); reject(error) })
      this.child.once('close', (code, signal) => {
        live.delete(this)
        this.exit = { code, signal }
        this.wake()
        resolve(this.exit)
      })
    })
    // Awaited by whoever cares; an unobserved spawn failure must not become an unhandled rejection.
    this.exited.catch(() => {})
  }

  get pid (): number | undefined {
    return this.child.pid
  }

  /** Complete lines written to stdout so far. */
  get lines (): string[] {
    const lines = this.stdout.split('\n')
    lines.pop()
    return lines
  }

  get running (): boolean {
    return this.exit === undefined
  }

  /** Writes one line to the child's stdin (spawned with `stdin: true`). */
  write (line: string): void {
    if (this.child.stdin === null) throw new Error(`${this.describe()} was spawned without a stdin pipe`)
    this.child.stdin.write(line.endsWith('\n') ? line : `${line}\n`)
  }

  /** The first stdout line (after `from` lines) matching `predicate`; rejects on exit or timeout. */
  async waitForLine (predicate: (line: string) => boolean, timeoutMs = 5000, from = 0): Promise<string> {
    return await this.waitFor(() => this.lines.slice(from).find(predicate), `a matching stdout line`, timeoutMs)
  }

  /** Resolves with `probe()`'s first defined result, re-checked whenever output arrives. */
  async waitFor<T> (probe: () => T | undefined, what: string, timeoutMs = 5000): Promise<T> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const found = probe()
      if (found !== undefined) return found
      if (this.exit !== undefined) throw new Error(`${this.describe()} exited (${this.exit.code ?? this.exit.signal}) before ${what}\n${this.output()}`)
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`timed out after ${timeoutMs}ms waiting for ${what} from ${this.describe()}\n${this.output()}`)
      await new Promise<void>(resolve => {
        const wake = (): void => { clearTimeout(timer); this.waiters.delete(wake); resolve() }
        const timer = setTimeout(wake, left)
        this.waiters.add(wake)
      })
    }
  }

  /** Waits for the process to exit by itself; SIGKILLs it and rejects after `timeoutMs`. */
  async waitForExit (timeoutMs = 5000): Promise<Exit> {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        this.kill('SIGKILL')
        reject(new Error(`${this.describe()} did not exit within ${timeoutMs}ms\n${this.output()}`))
      }, timeoutMs)
    })
    try {
      return await Promise.race([this.exited, timeout])
    } finally {
      clearTimeout(timer)
    }
  }

  /** Sends `signal` (SIGTERM by default), SIGKILLs after `graceMs`, and resolves with how it ended. */
  async stop (signal: NodeJS.Signals = 'SIGTERM', graceMs = 3000): Promise<Exit> {
    if (this.exit !== undefined) return this.exit
    this.kill(signal)
    const timer = setTimeout(() => this.kill('SIGKILL'), graceMs)
    try {
      return await this.exited
    } finally {
      clearTimeout(timer)
    }
  }

  kill (signal: NodeJS.Signals): void {
    if (this.exit === undefined) this.child.kill(signal)
  }

  describe (): string {
    return `${this.command} ${this.args.join(' ')}`.slice(0, 200)
  }

  output (): string {
    return `--- stdout ---\n${this.stdout.slice(-4000)}\n--- stderr ---\n${this.stderr.slice(-4000)}`
  }

  private wake (): void {
    for (const wake of [...this.waiters]) wake()
  }
}

/** Starts a tracked process; stop it with `stop()`, or leave it to `killAll()`. */
export function spawnTracked (command: string, args: readonly string[], options: SpawnOptions = {}): TrackedProcess {
  return new TrackedProcess(command, args, options)
}

/** Runs a process to completion; kills it and rejects (with its output) if it outlives `timeoutMs`. */
export async function run (command: string, args: readonly string[], options: RunOptions): Promise<RunResult> {
  const child = new TrackedProcess(command, args, { env: options.env, cwd: options.cwd, stdin: true })
  child.child.stdin!.end(options.input ?? '')
  const exit = await child.waitForExit(options.timeoutMs)
  return { ...exit, stdout: child.stdout, stderr: child.stderr }
}

/** Kills (SIGKILL) every process still running and waits for them to go: for after-hooks. */
export async function killAll (): Promise<void> {
  const running = [...live]
  for (const child of running) child.kill('SIGKILL')
  await Promise.all(running.map(async child => await child.exited.catch(() => undefined)))
}

// Last resort when a test file crashes or exits without its after-hook: no orphans.
process.once('exit', () => { for (const child of live) child.kill('SIGKILL') })

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const CLI = fileURLToPath(new URL('../../dist/runtime/cli.js', import.meta.url))

/** This process's environment without the broker's own TROUPE_* variables, so no test inherits them. */
export function cleanEnv (extra: Readonly<Record<string, string>> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [name, value] of Object.entries(process.env)) if (!name.startsWith('TROUPE_')) env[name] = value
  // The monitor's default port 8080 may be taken, and tests run side by side: a free one, unless a test says otherwise.
  return { ...env, TROUPE_MONITOR_PORT: '0', ...extra }
}

/** Runs the built CLI (dist/runtime/cli.js) to completion with exactly `args` and a clean environment plus `env`. */
export async function runCli (args: readonly string[], env: Readonly<Record<string, string>> = {}, timeoutMs = 10_000): Promise<RunResult> {
  return await run(process.execPath, [CLI, ...args], { timeoutMs, env: cleanEnv(env), cwd: ROOT })
}

export interface CliBroker {
  readonly port: number
  readonly host: string
  readonly process: TrackedProcess
  /** The broker's stdout lines so far (pino JSON); the array is a snapshot, read `process.lines` for later ones. */
  readonly output: string[]
  /** Every stdout line that is JSON, parsed. */
  logs (): Array<Record<string, unknown>>
}

export interface CliBrokerOptions {
  /**
   * Prepend `--host 127.0.0.1 --port 0` (the default). Turn it off to let a config file or
   * the environment choose, as the precedence tests do.
   */
  readonly bind?: boolean
  readonly timeoutMs?: number
}

/**
 * Spawns the built CLI (`npm test` builds first; nothing is built here) and resolves once its
 * "broker listening" log line names the port; rejects with the output if it exits first.
 */
export async function startCliBroker (args: readonly string[] = [], env: Readonly<Record<string, string>> = {}, options: CliBrokerOptions = {}): Promise<CliBroker> {
  const bind = options.bind === false ? [] : ['--host', '127.0.0.1', '--port', '0']
  const child = spawnTracked(process.execPath, [CLI, ...bind, ...args], { env: cleanEnv(env), cwd: ROOT })
  const listening = await child.waitFor(() => {
    for (const line of child.lines) {
      const parsed = parseJson(line)
      if (parsed?.msg === 'broker listening') return parsed
    }
    return undefined
  }, 'the "broker listening" log line', options.timeoutMs ?? 10_000)
  return {
    port: Number(listening.port),
    host: String(listening.host),
    process: child,
    output: child.lines,
    logs: () => child.lines.map(parseJson).filter((line): line is Record<string, unknown> => line !== undefined)
  }
}

function parseJson (line: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(line)
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? value as Record<string, unknown> : undefined
  } catch {
    return undefined
  }
}
