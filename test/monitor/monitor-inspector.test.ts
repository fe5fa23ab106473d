import type { Page } from 'playwright-core'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { newMonitorPage, screenshot, unexpectedErrors, useChromium, type ChromiumSuiteContext } from '../helpers/monitor-browser.js'
import { startMonitorServer, type MonitorServer } from '../helpers/monitor-server.js'
import { closeAllClients, connectClient } from '../helpers/mqtt-clients.js'

/** The state-machine inspector page (dev mode, `inspect: true`) in real Chromium, with a real MQTT.js client. */

interface Context extends ChromiumSuiteContext {
  servers: MonitorServer[]
}

const test = suite<Context>('monitor: state-machine inspector in Chromium')

useChromium(test)
test.before.each(context => {
  context.servers = []
})
test.after.each(async context => {
  await closeAllClients()
  for (const server of context.servers.splice(0)) await server.close()
})

async function inspectorPage (context: Context, inspect: boolean): Promise<{ page: Page, server: MonitorServer }> {
  const server = await startMonitorServer({ login: false, broker: { inspect, sysInterval: 0 } })
  context.servers.push(server)
  return { page: await newMonitorPage(context), server }
}

/** The ids of the state nodes drawn as active. */
async function activeStates (page: Page): Promise<string[]> {
  return await page.locator('#machine-chart [data-state-id].active').evaluateAll(nodes => nodes.map(node => (node as HTMLElement).dataset.stateId ?? ''))
}

test('with --inspect, a client\'s machine is drawn with its current state lit and its steps listed, and new steps arrive live', async context => {
  const { page, server } = await inspectorPage(context, true)
  const client = await connectClient(server.broker.url, { clientId: 'thermostat' })
  await client.subscribeAsync('home/#', { qos: 1 })
  await page.goto(`${server.url}connections/thermostat`)
  await page.getByRole('link', { name: 'State machine →' }).click()
  await page.waitForURL(/\/connections\/thermostat\/inspect$/)
  // Every state of the connection machine is on the chart.
  const drawn = await page.locator('#machine-chart [data-state-id]').evaluateAll(nodes => nodes.map(node => (node as HTMLElement).dataset.stateId))
  assert.equal(drawn.sort(), ['connection.authenticating', 'connection.awaitingConnect', 'connection.closed', 'connection.connected', 'connection.connected.awaitingPermission', 'connection.connected.serving'])
  assert.equal((await activeStates(page)).sort(), ['connection.connected', 'connection.connected.serving'])
  const steps = await page.locator('#inspect-steps').innerText()
  assert.match(steps, /xstate\.init/, 'the machine\'s start')
  assert.match(steps, /transition\s+connect\.accepted\s+connected\.serving/, 'CONNECT accepted, into connected.serving')
  assert.match(steps, /action\s+openSession/, 'the actions it ran')
  // A PUBLISH from the client is a new event, shown without a reload.
  const rowsBefore = await page.locator('#inspect-steps tr').count()
  await client.publishAsync('home/heating', 'on', { qos: 1 })
  await page.waitForFunction(count => document.querySelectorAll('#inspect-steps tr').length > count, rowsBefore)
  assert.match(await page.locator('#inspect-steps tr').first().innerText(), /packets\.received|dispatchPackets/)
  await screenshot(page, 'inspector')
  assert.equal(unexpectedErrors(context), [])
})

test('when the client disconnects, the live chart moves to closed', async context => {
  const { page, server } = await inspectorPage(context, true)
  const client = await connectClient(server.broker.url, { clientId: 'leaving' })
  await page.goto(`${server.url}connections/leaving/inspect`)
  assert.equal((await activeStates(page)).sort(), ['connection.connected', 'connection.connected.serving'])
  await client.endAsync()
  await page.waitForFunction(() => document.querySelector('#machine-chart [data-state-id="connection.closed"]')?.classList.contains('active') === true)
  assert.equal(await activeStates(page), ['connection.closed'])
  assert.is(await page.locator('#inspect-state').innerText(), 'closed')
})

test('without --inspect the chart still shows where the machine is, and the page says how to follow it live', async context => {
  const { page, server } = await inspectorPage(context, false)
  await connectClient(server.broker.url, { clientId: 'quiet' })
  await page.goto(`${server.url}connections/quiet/inspect`)
  assert.equal((await activeStates(page)).sort(), ['connection.connected', 'connection.connected.serving'])
  assert.match(await page.getByRole('status').innerText(), /inspector is off.*--inspect true/s)
  assert.match(await page.locator('#inspect-steps').innerText(), /Not recorded/)
})

test('a client that is not connected gets the "Not connected" page', async context => {
  const { page, server } = await inspectorPage(context, true)
  const response = await page.goto(`${server.url}connections/nobody/inspect`)
  assert.is(response?.status(), 404)
  assert.match(await page.getByRole('heading', { level: 1 }).innerText(), /Not connected/)
})

test.run()
