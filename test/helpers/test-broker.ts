import { Writable } from 'node:stream'
import { pino } from 'pino'
import type { Authenticator } from '../../actors/connection/authenticator.js'
import type { Authorizer } from '../../actors/connection/authorizer.js'
import { Broker } from '../../runtime/broker.js'
import { loadConfig } from '../../runtime/config/load-config.js'
import type { BrokerConfig } from '../../runtime/config/options.js'

/** A JSON log line the broker wrote, parsed. */
export interface LogLine {
  readonly level: number
  readonly msg: string
  readonly [field: string]: unknown
}

export interface TestBroker {
  readonly broker: Broker
  readonly port: number
  readonly url: string
  /** Every log line so far, so tests can assert on what the broker told its operator. */
  readonly logs: LogLine[]
  close (): Promise<void>
}

/** What a test broker gets beside its configuration: real security components to run with. */
export interface TestBrokerOptions {
  readonly authenticator?: Authenticator
  readonly authorizer?: Authorizer
}

/** Starts a real broker in this process on a free port of 127.0.0.1, logging to memory. */
export async function startBroker (overrides: Partial<BrokerConfig> = {}, options: TestBrokerOptions = {}): Promise<TestBroker> {
  const logs: LogLine[] = []
  const sink = new Writable({
    write (chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line.length > 0) logs.push(JSON.parse(line) as LogLine)
      done()
    }
  })
  const { config } = loadConfig({})
  const broker = await Broker.start({
    config: { ...config, host: '127.0.0.1', port: 0, ...overrides },
    log: pino({ level: 'debug' }, sink),
    authenticator: options.authenticator,
    authorizer: options.authorizer
  })
  return {
    broker,
    port: broker.port,
    url: `mqtt://127.0.0.1:${broker.port}`,
    logs,
    close: async () => await broker.close()
  }
}
