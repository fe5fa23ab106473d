import { readFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import type { Browser, Page } from 'playwright-core'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { closeBrowsers, launchChromium, openPage } from '../helpers/chromium.js'
import { closeListenerBrokers, startListenerBroker, type ListenerBroker } from '../helpers/listener-broker.js'
import { closeAllClients, collect, connectClient, eventually } from '../helpers/mqtt-clients.js'
import { makeTestCertificates, type TestCertificates } from '../helpers/test-certificates.js'

/**
 * MQTT.js in a real browser: headless Chromium loads a page with MQTT.js's browser bundle
 * from a local HTTP server, and the page talks MQTT over the browser's own WebSocket to the
 * broker's ws:// and wss:// listeners, with an MQTT.js client in Node on plain TCP on the
 * other side. Chromium does not know the test CA, so it runs with --ignore-certificate-errors.
 */

interface Context {
  pki: TestCertificates
  browser: Browser
  /** Serves the page and the MQTT.js bundle. */
  site: Server
  siteUrl: string
  broker: ListenerBroker
}

const test = suite<Context>('websocket listener: MQTT.js in Chromium')
const TIMEOUT_MS = 15_000

const PAGE = fileURLToPath(new URL('../fixtures/mqtt-browser-page.html', import.meta.url))
const MQTT_BUNDLE = fileURLToPath(new URL('../../node_modules/mqtt/dist/mqtt.min.js', import.meta.url))

/** What the page's script offers the test (window.troupe in mqtt-browser-page.html). */
interface BrowserClient {
  connect (url: string, clientId: string): Promise<void>
  subscribe (topic: string, qos: number): Promise<number[]>
  publish (topic: string, payload: string, qos: number): Promise<void>
  end (): Promise<void>
}

/**
 * The page's global `troupe`. Only the functions given to page.evaluate use it: they are sent
 * to Chromium as source text and run there, where the page's script has defined it.
 */
declare const troupe: BrowserClient

async function serveSite (): Promise<Server> {
  const files: Record<string, { body: Buffer, type: string }> = {
    '/': { body: await readFile(PAGE), type: 'text/html; charset=utf-8' },
    '/mqtt.min.js': { body: await readFile(MQTT_BUNDLE), type: 'text/javascript; charset=utf-8' }
  }
  const site = createServer((request, response) => {
    const file = files[request.url ?? '']
    if (file === undefined) {
      response.writeHead(404).end()
      return
    }
    response.writeHead(200, { 'content-type': file.type }).end(file.body)
  })
  await new Promise<void>(resolve => site.listen(0, '127.0.0.1', resolve))
  return site
}

test.before(async context => {
  context.pki = makeTestCertificates()
  context.browser = await launchChromium({ ignoreCertificateErrors: true })
  context.site = await serveSite()
  context.siteUrl = `http://127.0.0.1:${(context.site.address() as AddressInfo).port}/`
})
test.after(async context => {
  await closeBrowsers()
  context.site.closeAllConnections()
  await new Promise(resolve => context.site.close(resolve))
  context.pki.remove()
})
test.before.each(async context => {
  context.broker = await startListenerBroker({ wsPort: 0, wssPort: 0, tlsCert: context.pki.serverCert, tlsKey: context.pki.serverKey })
})
test.after.each(async context => {
  for (const browserContext of context.browser.contexts()) await browserContext.close()
  await closeAllClients()
  await closeListenerBrokers()
})

/** Opens the page and connects its MQTT.js client to `url`; fails with what the page reported. */
async function browserClient (context: Context, url: string, clientId: string): Promise<Page> {
  const { page, errors } = await openPage(context.browser)
  await page.goto(context.siteUrl)
  try {
    await page.evaluate(async ([url, clientId]) => await troupe.connect(url, clientId), [url, clientId] as const)
  } catch (error) {
    throw new Error(`the page could not connect to ${url}: ${(error as Error).message}\n${errors.join('\n')}`)
  }
  assert.is(await page.locator('#status').textContent(), 'connected')
  return page
}

for (const scheme of ['ws', 'wss'] as const) {
  test(`${scheme}://: a message from a Node client over TCP reaches MQTT.js in Chromium, and one from Chromium reaches the Node client`, async context => {
    const { broker } = context
    const page = await browserClient(context, `${scheme}://127.0.0.1:${broker.port(scheme)}/mqtt`, `chromium-${scheme}`)
    assert.equal(await page.evaluate(async () => await troupe.subscribe('browser/inbox', 1)), [1])

    const node = await connectClient(`mqtt://127.0.0.1:${broker.port('tcp')}`, { clientId: `node-${scheme}` })
    const fromBrowser = collect(node)
    await node.subscribeAsync('browser/outbox', { qos: 1 })

    await node.publishAsync('browser/inbox', `hello ${scheme} browser`, { qos: 1 })
    await page.locator('#messages li', { hasText: `hello ${scheme} browser` }).waitFor({ timeout: TIMEOUT_MS })
    assert.equal(await page.locator('#messages li').allTextContents(), [`browser/inbox hello ${scheme} browser`])

    await page.evaluate(async payload => await troupe.publish('browser/outbox', payload, 1), `hello from Chromium over ${scheme}`)
    await eventually(() => fromBrowser.length === 1, 'the browser\'s message at the Node client', TIMEOUT_MS)
    assert.equal([fromBrowser[0]!.topic, fromBrowser[0]!.payload, fromBrowser[0]!.qos], ['browser/outbox', `hello from Chromium over ${scheme}`, 1])

    await page.evaluate(async () => await troupe.end())
    const connected = broker.logs.filter(line => line.msg === 'client connected').map(line => line.clientId)
    assert.equal(connected.sort(), [`chromium-${scheme}`, `node-${scheme}`])
  })
}

test.run()
