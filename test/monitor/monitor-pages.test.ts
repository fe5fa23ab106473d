import type { MqttClient } from 'mqtt'
import type { Page } from 'playwright-core'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { newMonitorPage, PAGE_TIMEOUT_MS, screenshot, unexpectedErrors, useChromium, type ChromiumSuiteContext } from '../helpers/monitor-browser.js'
import { ADMIN, VIEWER, startMonitorServer, type MonitorAccount, type MonitorServer, type MonitorServerOptions } from '../helpers/monitor-server.js'
import { closeAllClients, connectClient, eventually } from '../helpers/mqtt-clients.js'
import { closeV5Clients, openV5 } from '../helpers/mqtt5-clients.js'

/**
 * The monitor's pages in a real headless Chromium, against a real monitor serving a real
 * broker, with real MQTT.js clients connected to that broker: what an operator sees and does.
 * Each page's full-page screenshot is kept in test-artifacts/monitor/ for a person to look at.
 */

interface Context extends ChromiumSuiteContext {
  /** Every monitor started by a test, closed after it. */
  servers: MonitorServer[]
}

const test = suite<Context>('monitor pages in Chromium')
const TIMEOUT_MS = PAGE_TIMEOUT_MS

useChromium(test)
test.before.each(context => {
  context.servers = []
})
test.after.each(async context => {
  await closeAllClients()
  await closeV5Clients()
  for (const server of context.servers) await server.close()
})

async function serve (context: Context, options: MonitorServerOptions = {}): Promise<MonitorServer> {
  const server = await startMonitorServer(options)
  context.servers.push(server)
  return server
}

const newPage = newMonitorPage

async function signIn (page: Page, server: MonitorServer, account: MonitorAccount): Promise<void> {
  await page.goto(server.url)
  await page.waitForURL(/\/login\?next=/)
  await page.getByLabel('User').fill(account.user)
  await page.getByLabel('Password').fill(account.password)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.getByRole('heading', { name: 'Dashboard' }).waitFor()
}

/** The text of every cell of the connections table, row by row. */
async function tableRows (page: Page): Promise<string[][]> {
  return await page.locator('main table.data tbody tr').evaluateAll(rows => rows.map(row => [...row.querySelectorAll('td')].map(cell => (cell.textContent ?? '').trim())))
}

/** The client ids the connections table lists, in order. */
async function listedIds (page: Page): Promise<string[]> {
  return (await tableRows(page)).filter(cells => cells.length > 1).map(cells => cells[0]!)
}

/** Resolves when `client` has made a round trip to the broker: its connection is alive. */
async function stillServed (client: MqttClient, what: string): Promise<void> {
  assert.ok(client.connected, `${what}: MQTT.js still connected`)
  const granted = await client.subscribeAsync(`alive/${client.options.clientId ?? ''}`, { qos: 1 })
  assert.is(granted[0]?.qos, 1, `${what}: the broker still answers its SUBSCRIBE`)
}

test('the login is required: / lands on the sign-in form, a wrong password stays out, the right one reaches the dashboard, signing out ends the session', async context => {
  const server = await serve(context)
  const page = await newPage(context)

  await page.goto(server.url)
  await page.waitForURL(/\/login\?next=%2F$/)
  await page.getByRole('heading', { name: 'Sign in' }).waitFor()
  assert.is(await page.getByRole('navigation').count(), 0, 'no navigation before signing in')
  await screenshot(page, 'login')

  await page.getByLabel('User').fill(ADMIN.user)
  await page.getByLabel('Password').fill('not the password')
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.getByRole('alert').waitFor()
  assert.is((await page.getByRole('alert').textContent())?.trim(), 'Wrong user name or password.')
  assert.match(new URL(page.url()).pathname, /^\/login$/, 'still on the login page')
  assert.is(await page.getByLabel('User').inputValue(), ADMIN.user, 'the user name is kept for the next try')
  await page.goto(server.url)
  await page.waitForURL(/\/login\?next=/)
  assert.is(await page.getByRole('heading', { name: 'Dashboard' }).count(), 0, 'a failed login gives no way in')

  // An unknown user is refused the same way.
  await page.getByLabel('User').fill('mallory')
  await page.getByLabel('Password').fill(ADMIN.password)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.getByRole('alert').waitFor()
  assert.is((await page.getByRole('alert').textContent())?.trim(), 'Wrong user name or password.')

  await page.getByLabel('User').fill(ADMIN.user)
  await page.getByLabel('Password').fill(ADMIN.password)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.getByRole('heading', { name: 'Dashboard' }).waitFor()
  assert.is(new URL(page.url()).pathname, '/', 'back where the login sent us from')
  assert.match(await page.locator('.topbar .who .user').innerText(), new RegExp(`^${ADMIN.user}\\s+admin$`, 'i'))
  const cookiesSignedIn = await page.context().cookies()
  assert.is(cookiesSignedIn.length, 1, 'one session cookie')
  assert.ok(cookiesSignedIn[0]!.httpOnly, 'the session cookie is HttpOnly')

  await page.getByRole('button', { name: 'Sign out' }).click()
  await page.getByRole('heading', { name: 'Sign in' }).waitFor()
  await page.reload()
  await page.getByRole('heading', { name: 'Sign in' }).waitFor()
  await page.goto(server.url)
  await page.waitForURL(/\/login\?next=/)

  // The server ended the session too: the old cookie, put back, lets nobody in.
  await page.context().addCookies(cookiesSignedIn)
  await page.goto(`${server.url}connections`)
  await page.waitForURL(/\/login\?next=%2Fconnections$/)
  assert.equal(unexpectedErrors(context, '401 /login'), [])
})

test('dashboard: the cards show the connected clients, sessions and subscriptions, and "Messages in" turns to a live non-zero rate without a reload while a client publishes', async context => {
  const server = await serve(context)
  const url = server.broker.url
  // A session kept for a client that went away: counted as a session, offline, with its subscription.
  const away = await openV5(server.broker, { clientId: 'dash-away', clean: false, properties: { sessionExpiryInterval: 3600 } })
  await away.client.subscribeAsync('away/inbox', { qos: 1 })
  await away.client.endAsync()
  const first = await connectClient(url, { clientId: 'dash-1' })
  await first.subscribeAsync({ 'home/+/temperature': { qos: 0 }, 'alerts/#': { qos: 1 } })
  const second = await connectClient(url, { clientId: 'dash-2' })
  await second.subscribeAsync('home/kitchen/#', { qos: 1 })
  const publisher = await connectClient(url, { clientId: 'dash-publisher' })

  const page = await newPage(context)
  await signIn(page, server, ADMIN)
  const live = (name: string): ReturnType<Page['locator']> => page.locator(`[data-live="${name}"]`)
  // The server renders the numbers; the event stream then keeps them current.
  await page.waitForFunction(() => document.querySelector('[data-live="sessionsOffline"]')?.textContent === '1')
  assert.is(await live('connections').textContent(), '3', 'three clients connected')
  assert.is(await live('sessions').textContent(), '4', 'three online sessions and the one kept for dash-away')
  assert.is(await live('sessionsOffline').textContent(), '1', 'dash-away\'s session is offline')
  assert.is(await live('subscriptions').textContent(), '4', 'dash-1\'s two, dash-2\'s one and dash-away\'s one')
  assert.is(await live('messagesIn').textContent(), '0/s', 'nothing published yet')

  // A mark on this document: it is gone if the page reloads.
  await page.evaluate(() => { (window as unknown as { notReloaded: boolean }).notReloaded = true })

  const late = await connectClient(url, { clientId: 'dash-late' })
  await page.waitForFunction(() => document.querySelector('[data-live="connections"]')?.textContent === '4')

  const timer = setInterval(() => {
    for (let i = 0; i < 50; i++) publisher.publish('home/kitchen/temperature', String(20 + i / 10))
  }, 100)
  try {
    await page.waitForFunction(() => {
      const text = document.querySelector('[data-live="messagesIn"]')?.textContent ?? ''
      return /^[\d,.]+\/s$/.test(text) && Number.parseFloat(text.replace(/,/g, '')) > 0
    }, undefined, { timeout: TIMEOUT_MS })
  } finally {
    clearInterval(timer)
  }
  assert.ok(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded === true), 'the numbers changed on the same page, without a reload')
  assert.match(await live('messagesIn').textContent() ?? '', /^[1-9][\d,]*(\.\d)?\/s$|^0\.[1-9]\/s$/)
  await page.waitForFunction(() => (document.querySelector('[data-live="messagesOut"]')?.textContent ?? '0/s') !== '0/s')
  await screenshot(page, 'dashboard')
  await late.endAsync()
  assert.equal(unexpectedErrors(context), [])
})

test('connections page: lists each client with protocol and state, searches, sorts by client id both ways', async context => {
  const server = await serve(context)
  await connectClient(server.broker.url, { clientId: 'sensor-kitchen' })
  await openV5(server.broker, { clientId: 'sensor-garage' })
  await connectClient(server.broker.url, { clientId: 'meter-hall' })

  const page = await newPage(context)
  await signIn(page, server, ADMIN)
  await page.getByRole('navigation').getByRole('link', { name: 'Connections' }).click()
  await page.getByRole('heading', { name: 'Connections' }).waitFor()
  const rows = await tableRows(page)
  const byId = new Map(rows.map(cells => [cells[0]!, cells]))
  assert.equal([...byId.keys()].sort(), ['meter-hall', 'sensor-garage', 'sensor-kitchen'])
  assert.equal([byId.get('sensor-kitchen')![2], byId.get('sensor-kitchen')![3]], ['MQTT 3.1.1', 'connected.serving'])
  assert.equal([byId.get('sensor-garage')![2], byId.get('sensor-garage')![3]], ['MQTT 5.0', 'connected.serving'])
  assert.equal([byId.get('meter-hall')![2], byId.get('meter-hall')![3]], ['MQTT 3.1.1', 'connected.serving'])
  assert.match(byId.get('sensor-kitchen')![1]!, /^(::ffff:)?127\.0\.0\.1:\d+$/, 'the client\'s address and port')
  assert.is(await page.getByTestId('matching').textContent(), '3')

  await page.getByRole('searchbox', { name: 'Search connections' }).fill('SENSOR')
  await page.getByRole('button', { name: 'Search' }).click()
  await page.waitForURL(/[?&]q=SENSOR/)
  assert.equal((await listedIds(page)).sort(), ['sensor-garage', 'sensor-kitchen'], 'only the matching clients, whatever the case')
  assert.match(await page.locator('.search .count').innerText(), /^2 of 3 connections$/)
  assert.is(await page.getByRole('searchbox', { name: 'Search connections' }).inputValue(), 'SENSOR', 'the search stays in the box')

  await page.getByRole('searchbox', { name: 'Search connections' }).fill('kitch')
  await page.getByRole('searchbox', { name: 'Search connections' }).press('Enter')
  await page.waitForURL(/[?&]q=kitch/)
  assert.equal(await listedIds(page), ['sensor-kitchen'])

  await page.getByRole('searchbox', { name: 'Search connections' }).fill('nobody-by-this-name')
  await page.getByRole('button', { name: 'Search' }).click()
  await page.waitForURL(/[?&]q=nobody/)
  assert.equal(await listedIds(page), [])
  assert.is((await tableRows(page))[0]?.[0], 'No connection matches.')

  await page.getByRole('searchbox', { name: 'Search connections' }).fill('')
  await page.getByRole('button', { name: 'Search' }).click()
  await page.waitForURL(url => url.searchParams.get('q') === '')
  const header = page.locator('main table.data thead th', { hasText: 'Client id' })
  await header.getByRole('link').click()
  await page.waitForURL(/sort=clientId&dir=asc/)
  assert.equal(await listedIds(page), ['meter-hall', 'sensor-garage', 'sensor-kitchen'], 'client id ascending')
  assert.is(await header.getAttribute('aria-sort'), 'ascending')
  await screenshot(page, 'connections')
  await header.getByRole('link').click()
  await page.waitForURL(/sort=clientId&dir=desc/)
  assert.equal(await listedIds(page), ['sensor-kitchen', 'sensor-garage', 'meter-hall'], 'client id descending')
  assert.is(await header.getAttribute('aria-sort'), 'descending')
  assert.equal(unexpectedErrors(context), [])
})

test('connections page: 120 connections make 3 pages of 50, 50 and 20, and Next goes to the next rows', async context => {
  const server = await serve(context)
  const ids = Array.from({ length: 120 }, (_, i) => `fleet-${String(i).padStart(3, '0')}`)
  for (let start = 0; start < ids.length; start += 20) {
    await Promise.all(ids.slice(start, start + 20).map(async clientId => await connectClient(server.broker.url, { clientId })))
  }

  const page = await newPage(context)
  await signIn(page, server, VIEWER)
  await page.goto(`${server.url}connections?sort=clientId&dir=asc`)
  const pager = page.getByRole('navigation', { name: 'Pages' })
  assert.match(await pager.innerText(), /Page 1 of 3/)
  assert.is(await pager.getByRole('link', { name: /Previous/ }).count(), 0, 'no Previous on page 1')
  const pageOne = await listedIds(page)
  assert.equal(pageOne, ids.slice(0, 50))
  assert.match(await page.locator('.search .count').innerText(), /^120 of 120 connections$/)

  await pager.getByRole('link', { name: /Next/ }).click()
  await page.waitForURL(/[?&]page=2/)
  assert.match(await pager.innerText(), /Page 2 of 3/)
  const pageTwo = await listedIds(page)
  assert.equal(pageTwo, ids.slice(50, 100), 'page 2 holds the next 50, none of page 1\'s')

  await pager.getByRole('link', { name: /Next/ }).click()
  await page.waitForURL(/[?&]page=3/)
  assert.match(await pager.innerText(), /Page 3 of 3/)
  assert.equal(await listedIds(page), ids.slice(100), 'the last 20')
  assert.is(await pager.getByRole('link', { name: /Next/ }).count(), 0, 'no Next on the last page')
  await screenshot(page, 'connections-last-page')

  await pager.getByRole('link', { name: /Previous/ }).click()
  await page.waitForURL(/[?&]page=2/)
  assert.equal(await listedIds(page), pageTwo)
  assert.equal(unexpectedErrors(context), [])
})

test('connection detail: subscriptions and the machine\'s last events; an admin\'s Disconnect ends the v5 client with DISCONNECT 0x98 and it leaves the list', async context => {
  const server = await serve(context)
  const display = await openV5(server.broker, { clientId: 'kitchen-display', keepalive: 30 })
  const granted = await display.client.subscribeAsync({ 'home/+/temperature': { qos: 1 }, 'alerts/#': { qos: 2 } })
  assert.equal(granted.map(grant => grant.qos), [1, 2])
  let closed = false
  display.client.on('close', () => { closed = true })
  const bystander = await connectClient(server.broker.url, { clientId: 'bystander' })

  const page = await newPage(context)
  await signIn(page, server, ADMIN)
  await page.goto(`${server.url}connections`)
  await page.getByRole('link', { name: 'kitchen-display' }).click()
  await page.waitForURL(/\/connections\/kitchen-display$/)
  assert.match(await page.getByRole('heading', { level: 1 }).innerText(), /^kitchen-display\s+connected\.serving\s+State machine →$/)
  const panel = (name: RegExp): ReturnType<Page['locator']> => page.locator('.panel', { has: page.getByRole('heading', { level: 2, name }) })
  const connection = await panel(/^Connection$/).locator('dl').innerText()
  assert.match(connection, /Protocol\s+MQTT 5\.0/)
  assert.match(connection, /Keep-alive\s+30 s/)

  const subscriptions = await panel(/^Subscriptions/).locator('tbody tr').evaluateAll(rows => rows.map(row => [...row.querySelectorAll('td')].slice(0, 2).map(cell => (cell.textContent ?? '').trim())))
  assert.equal(subscriptions.sort(), [['alerts/#', '2'], ['home/+/temperature', '1']])
  assert.match(await panel(/^Subscriptions/).getByRole('heading').innerText(), /Subscriptions \(2\)/)

  const events = await panel(/^Machine: last events$/).locator('tbody tr td:nth-child(2)').allInnerTexts()
  assert.ok(events.includes('packets.received: CONNECT'), `a CONNECT arrival among the last events: ${events.join(' | ')}`)
  assert.ok(events.includes('packets.received: SUBSCRIBE'), `a SUBSCRIBE arrival among the last events: ${events.join(' | ')}`)
  assert.ok(events.indexOf('packets.received: SUBSCRIBE') < events.indexOf('packets.received: CONNECT'), 'newest first: the SUBSCRIBE above the CONNECT')
  await screenshot(page, 'connection-detail')

  await page.getByRole('button', { name: 'Disconnect' }).click()
  await page.waitForURL(/\/connections\?disconnected=kitchen-display$/)
  assert.match(await page.getByRole('status').innerText(), /^Disconnected kitchen-display\.$/)
  await eventually(() => display.disconnects.length > 0 && closed, 'the v5 client to get DISCONNECT and its connection to close', TIMEOUT_MS)
  assert.is(display.disconnects[0]!.reasonCode, 0x98, 'DISCONNECT reason 0x98 Administrative action')
  assert.not.ok(display.client.connected)
  assert.equal(await listedIds(page), ['bystander'], 'the disconnected client is no longer listed')
  await stillServed(bystander, 'the other client')

  // Its page now says so, rather than showing a stale connection.
  await page.goto(`${server.url}connections/kitchen-display`)
  await page.getByRole('heading', { name: 'Not connected' }).waitFor()
  assert.equal(unexpectedErrors(context, '404 /connections/kitchen-display'), [])
})

test('roles and CSRF: a viewer sees no Disconnect and is refused (403) even with its CSRF token; an admin with a wrong CSRF token is refused; the client stays connected', async context => {
  const server = await serve(context)
  const watched = await openV5(server.broker, { clientId: 'watched' })
  const disconnectUrl = `${server.url}connections/watched/disconnect`

  const viewer = await newPage(context)
  await signIn(viewer, server, VIEWER)
  assert.match(await viewer.locator('.topbar .who .user').innerText(), /viewer/i)
  await viewer.goto(`${server.url}connections/watched`)
  await viewer.getByRole('heading', { level: 1, name: /watched/ }).waitFor()
  assert.is(await viewer.getByRole('button', { name: 'Disconnect' }).count(), 0, 'no Disconnect button for a viewer')
  const viewerCsrf = await viewer.locator('form[action="/logout"] input[name="csrf"]').inputValue()
  assert.ok(viewerCsrf.length > 0, 'the viewer\'s page carries its CSRF token')
  const byViewer = await viewer.request.post(disconnectUrl, { form: { csrf: viewerCsrf }, maxRedirects: 0 })
  assert.is(byViewer.status(), 403, 'a viewer may not disconnect')
  assert.match(await byViewer.text(), /admin/)
  await stillServed(watched.client, 'after the viewer\'s POST')
  assert.equal(watched.disconnects, [])

  const admin = await newPage(context)
  await signIn(admin, server, ADMIN)
  await admin.goto(`${server.url}connections/watched`)
  await admin.getByRole('button', { name: 'Disconnect' }).waitFor()
  const adminCsrf = await admin.locator('form[action$="/disconnect"] input[name="csrf"]').inputValue()
  for (const [what, form] of [['a wrong CSRF token', { csrf: `${adminCsrf.slice(0, -1)}${adminCsrf.endsWith('A') ? 'B' : 'A'}` }], ['the viewer\'s CSRF token', { csrf: viewerCsrf }], ['no CSRF token', {}]] as const) {
    const response = await admin.request.post(disconnectUrl, { form, maxRedirects: 0 })
    assert.is(response.status(), 403, `an admin's POST with ${what} is refused`)
    await stillServed(watched.client, `after the admin's POST with ${what}`)
  }
  // Script on the admin's own page, the way a form would post, without the token: refused too.
  const fromPage = await admin.evaluate(async url => (await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'csrf=forged', redirect: 'manual' })).status, disconnectUrl)
  assert.is(fromPage, 403)
  assert.equal(watched.disconnects, [], 'no DISCONNECT reached the client')

  const anonymous = await newPage(context)
  const signedOut = await anonymous.request.post(disconnectUrl, { form: { csrf: adminCsrf }, maxRedirects: 0 })
  assert.is(signedOut.status(), 401, 'without a session: sign in first')

  await admin.goto(`${server.url}connections`)
  assert.equal(await listedIds(admin), ['watched'], 'still listed')
  assert.is((await tableRows(admin))[0]![3], 'connected.serving')
  await stillServed(watched.client, 'at the end')
  assert.equal(unexpectedErrors(context, '403 /connections/watched/disconnect'), [])
})

test('without a password file the monitor opens with no login, on 127.0.0.1, and says "local access"', async context => {
  const server = await serve(context, { login: false })
  assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/$/, 'listening on 127.0.0.1 only')
  await connectClient(server.broker.url, { clientId: 'local-one' })

  const page = await newPage(context)
  await page.goto(server.url)
  await page.getByRole('heading', { name: 'Dashboard' }).waitFor()
  assert.is(page.url(), server.url, 'no detour through a login')
  assert.is((await page.locator('.topbar .who').innerText()).trim(), 'local access')
  assert.is(await page.getByRole('button', { name: 'Sign out' }).count(), 0, 'nothing to sign out of')
  assert.is(await page.locator('[data-live="connections"]').textContent(), '1')
  await screenshot(page, 'dashboard-local')

  await page.goto(`${server.url}login`)
  await page.getByRole('heading', { name: 'Dashboard' }).waitFor()
  assert.is(page.url(), server.url, '/login leads straight to the dashboard')

  await page.goto(`${server.url}connections`)
  assert.equal(await listedIds(page), ['local-one'])
  assert.equal(unexpectedErrors(context), [])
})

test.run()
