import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process'

/**
 * Every process the bench starts, so that all of them are killed when the bench ends, however
 * it ends. Each child is also started under `setpriv --pdeathsig KILL`: should the bench itself
 * be killed with SIGKILL (no handler runs then), the kernel still kills its brokers.
 */
const running = new Set<ChildProcess>()
let installed = false

/** Starts `command` as a tracked child that dies with this process. */
export function spawnTracked (command: string, args: readonly string[], options: SpawnOptions = {}): ChildProcess {
  installCleanup()
  // setpriv execs the command, so the child's pid is the command's own pid (needed for /proc).
  const child = spawn('setpriv', ['--pdeathsig', 'KILL', '--', command, ...args], options)
  running.add(child)
  child.once('exit', () => running.delete(child))
  return child
}

/** Kills every child still running; safe to call more than once and from an 'exit' handler. */
export function killAll (): void {
  for (const child of running) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  }
  running.clear()
}

function installCleanup (): void {
  if (installed) return
  installed = true
  // 'exit' handlers must be synchronous: process.kill is, so the brokers go down with us.
  process.on('exit', killAll)
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      process.stderr.write(`\nbench: ${signal}, stopping every broker it started\n`)
      killAll()
      process.exit(128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 1))
    })
  }
}
