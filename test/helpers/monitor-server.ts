import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startMonitor, type RunningMonitor } from '../../monitor/start-monitor.js'
import { formatPasswordFileLine } from '../../runtime/auth/password-file.js'
import { hashPassword } from '../../runtime/auth/password-hash.js'
import type { BrokerConfig } from '../../runtime/config/options.js'
import { startBroker, type TestBroker } from './test-broker.js'

/** Someone who may sign in to a test monitor. */
export interface MonitorAccount {
  readonly user: string
  readonly password: string
}

/** In the password file and named in `admins`: may disconnect clients. */
export const ADMIN: MonitorAccount = { user: 'alice', password: 'correct horse battery staple' }
/** In the password file only: may look. */
export const VIEWER: MonitorAccount = { user: 'victor', password: 'just looking 123' }

/**
 * Few PBKDF2 rounds: the tests sign in many times and check the login, not the hash's cost
 * (password-hash tests cover that).
 */
const TEST_ITERATIONS = 1000

export interface MonitorServer {
  readonly broker: TestBroker
  readonly monitor: RunningMonitor
  /** The monitor's base URL, ending in `/`. */
  readonly url: string
  /** The password file's path, undefined without a login. */
  readonly passwordFile: string | undefined
  /** Closes the monitor, then the broker, and removes the password file. */
  close (): Promise<void>
}

export interface MonitorServerOptions {
  /** False: no password file, so nobody signs in and the monitor keeps to 127.0.0.1. Default true. */
  readonly login?: boolean
  readonly broker?: Partial<BrokerConfig>
}

/**
 * A real broker in this process (127.0.0.1, port 0) with its monitor on 127.0.0.1 port 0;
 * with a login, the monitor reads a Mosquitto password file in a temporary directory that
 * holds ADMIN (an admin) and VIEWER (a viewer).
 */
export async function startMonitorServer (options: MonitorServerOptions = {}): Promise<MonitorServer> {
  const login = options.login ?? true
  let directory: string | undefined
  let passwordFile: string | undefined
  if (login) {
    directory = mkdtempSync(join(tmpdir(), 'troupe-monitor-'))
    passwordFile = join(directory, 'monitor.passwd')
    const lines = await Promise.all([ADMIN, VIEWER].map(async ({ user, password }) => formatPasswordFileLine(user, await hashPassword(Buffer.from(password, 'utf8'), TEST_ITERATIONS))))
    writeFileSync(passwordFile, `${lines.join('\n')}\n`, { mode: 0o600 })
  }
  const broker = await startBroker(options.broker)
  let monitor: RunningMonitor
  try {
    // Without a login, host stays unset: the monitor must choose 127.0.0.1 itself.
    monitor = await startMonitor(broker.broker, { port: 0, host: login ? '127.0.0.1' : undefined, passwordFile, admins: [ADMIN.user] }, broker.broker.log)
  } catch (error) {
    await broker.close()
    if (directory !== undefined) rmSync(directory, { recursive: true, force: true })
    throw error
  }
  return {
    broker,
    monitor,
    url: monitor.url,
    passwordFile,
    close: async () => {
      try {
        await monitor.close()
        await broker.close()
      } finally {
        if (directory !== undefined) rmSync(directory, { recursive: true, force: true })
      }
    }
  }
}
