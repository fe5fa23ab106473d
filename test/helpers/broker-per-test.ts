import type { Test } from 'uvu'
import type { BrokerConfig } from '../../runtime/config/options.js'
import { closeAllClients } from './mqtt-clients.js'
import { closeV5Clients } from './mqtt5-clients.js'
import { WireClient } from './mqtt5-wire.js'
import { RawClient } from './raw-client.js'
import { startBroker, type TestBroker } from './test-broker.js'

/**
 * Gives every test of `test` a fresh broker (`context.broker`), and after each test closes
 * every client the helpers opened and every broker started. Returns a way to start extra
 * brokers with settings of their own, closed the same way.
 */
export function brokerPerTest (test: Test<{ broker: TestBroker }>): (overrides: Partial<BrokerConfig>) => Promise<TestBroker> {
  const extraBrokers: TestBroker[] = []
  test.before.each(async context => { context.broker = await startBroker() })
  test.after.each(async context => {
    await closeTestClients()
    await context.broker.close()
    for (const broker of extraBrokers.splice(0)) await broker.close()
  })
  return async overrides => {
    const broker = await startBroker(overrides)
    extraBrokers.push(broker)
    return broker
  }
}

/** Closes every client the test helpers opened: raw and wire clients, MQTT.js at every level. */
export async function closeTestClients (): Promise<void> {
  RawClient.closeAll()
  WireClient.closeAll()
  await closeV5Clients()
  await closeAllClients()
}
