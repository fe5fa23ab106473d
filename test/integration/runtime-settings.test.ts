import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { RUNTIME_SETTINGS } from '../../runtime/broker.js'
import { OPTIONS } from '../../runtime/config/options.js'
import { startMonitorServer, type MonitorServer } from '../helpers/monitor-server.js'
import { acceptedV5, rawSubscribe } from '../helpers/mqtt5-clients.js'
import { closeTestClients } from '../helpers/broker-per-test.js'

/**
 * Settings changed from the monitor's Configuration page while the broker runs: they apply to
 * the next client or packet, without a restart.
 */

const test = suite<{ servers: MonitorServer[] }>('settings changed at run time')

test.before.each(context => { context.servers = [] })
test.after.each(async context => {
  await closeTestClients()
  for (const server of context.servers.splice(0)) await server.close()
})

/** Posts the Configuration form as the page would (local mode: the standing admin session). */
async function change (server: MonitorServer, name: string, value: string): Promise<Response> {
  const page = await (await fetch(`${server.url}configuration`)).text()
  const csrf = /name="csrf" value="([^"]+)"/.exec(page)?.[1]
  assert.ok(csrf !== undefined, 'the page carries a CSRF token')
  return await fetch(`${server.url}configuration`, { method: 'POST', redirect: 'manual', body: new URLSearchParams({ csrf, name, value }), headers: { 'content-type': 'application/x-www-form-urlencoded' } })
}

test('max-subscriptions lowered at run time: the next SUBSCRIBE beyond it gets 0x97 Quota exceeded', async context => {
  const server = await startMonitorServer({ login: false, broker: { sysInterval: 0 } })
  context.servers.push(server)
  const { client } = await acceptedV5(server.broker)
  assert.equal(await rawSubscribe(client, [{ topic: 'a/1', qos: 1 }, { topic: 'a/2', qos: 1 }], undefined, 1), [1, 1], 'no limit yet')
  const response = await change(server, 'max-subscriptions', '2')
  assert.is(response.status, 303)
  assert.match(decodeURIComponent(response.headers.get('location') ?? ''), /max-subscriptions is now 2/)
  assert.equal(await rawSubscribe(client, [{ topic: 'a/3', qos: 1 }], undefined, 2), [0x97], 'a third is over the new limit')
  assert.equal(await rawSubscribe(client, [{ topic: 'a/1', qos: 0 }], undefined, 3), [0], 'replacing one it holds is allowed')
})

test('max-topic-levels lowered at run time: a deeper filter is refused with 0x8F', async context => {
  const server = await startMonitorServer({ login: false, broker: { sysInterval: 0 } })
  context.servers.push(server)
  const { client } = await acceptedV5(server.broker)
  assert.is((await change(server, 'max-topic-levels', '3')).status, 303)
  assert.equal(await rawSubscribe(client, [{ topic: 'a/b/c', qos: 1 }, { topic: 'a/b/c/d', qos: 1 }]), [1, 0x8F])
})

test('a value the option does not allow is refused with the option\'s own message and changes nothing', async context => {
  const server = await startMonitorServer({ login: false, broker: { sysInterval: 0 } })
  context.servers.push(server)
  const response = await change(server, 'max-subscriptions', '-1')
  assert.is(response.status, 400)
  assert.match(await response.text(), /invalid max-subscriptions &quot;-1&quot; \(from monitor\): expected a whole number from 0/)
  assert.is(server.broker.broker.settings.maxSubscriptions, 0)
})

test('a setting read only at start is refused: change it in the configuration and restart', async context => {
  const server = await startMonitorServer({ login: false, broker: { sysInterval: 0 } })
  context.servers.push(server)
  const response = await change(server, 'max-inflight', '5')
  assert.is(response.status, 400)
  assert.match(await response.text(), /read at start: change it in the configuration and restart the broker/)
})

test('every setting the page offers to change is one the broker applies', async context => {
  const server = await startMonitorServer({ login: false, broker: { sysInterval: 0 } })
  context.servers.push(server)
  for (const key of RUNTIME_SETTINGS) assert.ok(server.broker.broker.applySetting(key, server.broker.broker.config[key]), OPTIONS[key].name)
})

test.run()
