import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Logger } from 'pino'
import type { Locator, Page } from 'playwright-core'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { parse as parseYaml } from 'yaml'
import { startMonitor, type RunningMonitor } from '../../monitor/start-monitor.js'
import { formatPasswordFileLine } from '../../runtime/auth/password-file.js'
import { hashPassword } from '../../runtime/auth/password-hash.js'
import { Broker } from '../../runtime/broker.js'
import { loadConfig } from '../../runtime/config/load-config.js'
import { OPTIONS } from '../../runtime/config/options.js'
import { createLogger } from '../../runtime/logging.js'
import { RecentLogs } from '../../runtime/recent-logs.js'
import { MONITOR_ARTIFACTS, newMonitorPage, PAGE_TIMEOUT_MS, screenshot, unexpectedErrors, useChromium, type ChromiumSuiteContext } from '../helpers/monitor-browser.js'
import { closeAllClients, collect, connectClient, eventually } from '../helpers/mqtt-clients.js'

/**
 * The monitor's explorer pages (Topics, Message flow, System, Logs, Configuration) in a real
 * headless Chromium, against a real broker started from a real YAML config file, whose log
 * lines reach the Logs page, with real MQTT.js clients. Each page's full-page screenshot is
 * kept in test-artifacts/monitor/ for a person to look at.
 */

/** A broker started the way the CLI starts one: from a config file, its logs kept for the monitor. */
interface Served {
  readonly broker: Broker
  readonly log: Logger
  readonly recentLogs: RecentLogs
  readonly monitor: RunningMonitor
  /** The monitor's base URL, ending in `/`. */
  readonly url: string
  readonly mqttUrl: string
  readonly configFile: string
  readonly dir: string
}

interface Context extends ChromiumSuiteContext {
  served: Served[]
}

const test = suite<Context>('monitor explorer pages in Chromium')
const TIMEOUT_MS = PAGE_TIMEOUT_MS
const ARTIFACTS = MONITOR_ARTIFACTS

useChromium(test)
test.before.each(context => {
  context.served = []
})
test.after.each(async context => {
  await closeAllClients()
  for (const served of context.served) {
    try {
      await served.monitor.close()
      await served.broker.close()
    } finally {
      rmSync(served.dir, { recursive: true, force: true })
    }
  }
})

interface ServeOptions {
  /** The config file's text. */
  readonly yaml?: string
  /** Command-line flags beside the file's values, by option name. */
  readonly flags?: Readonly<Record<string, string>>
  /** Writes files the YAML names (a password file) into the temporary directory first. */
  readonly prepare?: (dir: string) => Promise<void>
}

/**
 * A broker from a YAML file in a temporary directory, on 127.0.0.1 port 0 (given as flags,
 * as an operator would), logging through `createLogger` into a RecentLogs, with its monitor
 * on 127.0.0.1 port 0 and no login.
 */
async function serve (context: Context, options: ServeOptions = {}): Promise<Served> {
  const dir = mkdtempSync(join(tmpdir(), 'troupe-explorer-'))
  try {
    await options.prepare?.(dir)
    const configFile = join(dir, 'troupe.yaml')
    writeFileSync(configFile, (options.yaml ?? 'log-level: info\n').replaceAll('$DIR', dir))
    const loaded = loadConfig({ file: configFile, flags: { host: '127.0.0.1', port: '0', 'monitor-port': '0', ...options.flags } })
    const recentLogs = new RecentLogs()
    // Nothing on stdout: the test's output stays readable; the lines still reach recentLogs.
    const log = createLogger(loaded.config.logLevel, { write: () => undefined }, recentLogs)
    const broker = await Broker.start({ config: loaded.config, log })
    let monitor: RunningMonitor
    try {
      monitor = await startMonitor(broker, { loaded, recentLogs, port: 0, host: '127.0.0.1', passwordFile: undefined, admins: [] }, log)
    } catch (error) {
      await broker.close()
      throw error
    }
    const served: Served = { broker, log, recentLogs, monitor, url: monitor.url, mqttUrl: `mqtt://127.0.0.1:${broker.port}`, configFile, dir }
    context.served.push(served)
    return served
  } catch (error) {
    rmSync(dir, { recursive: true, force: true })
    throw error
  }
}

const newPage = newMonitorPage

/** The text of every cell of a table's body, row by row. */
async function rowsOf (table: Locator): Promise<string[][]> {
  return await table.locator('tbody tr').evaluateAll(rows => rows.map(row => [...row.querySelectorAll('td')].map(cell => (cell.textContent ?? '').trim())))
}

/** A definition list as `term -> description`. */
async function definitions (list: Locator): Promise<Map<string, string>> {
  const pairs = await list.evaluate(element => [...element.querySelectorAll('dt')].map(term => [(term.textContent ?? '').trim(), (term.nextElementSibling?.textContent ?? '').trim()] as const))
  return new Map(pairs)
}

/** The panel whose h2 matches `heading`. */
function panel (page: Page, heading: RegExp): Locator {
  return page.locator('.panel', { has: page.getByRole('heading', { level: 2, name: heading }) })
}

/** The level names the topic explorer lists, in order. */
async function levelNames (page: Page): Promise<string[]> {
  return await page.getByTestId('levels').locator('tbody tr td:first-child a').allTextContents()
}

async function clickLevel (page: Page, name: string, prefix: string): Promise<void> {
  await page.getByTestId('levels').getByRole('link', { name, exact: true }).click()
  await page.waitForURL(url => url.pathname === '/topics' && url.searchParams.get('prefix') === prefix)
}

/** Sensors and their readers: two publishers, two subscribers through different filters. */
async function sensorClients (served: Served): Promise<{ publish: () => Promise<void> }> {
  const archive = await connectClient(served.mqttUrl, { clientId: 'sensor-archive' })
  await archive.subscribeAsync('sensors/#', { qos: 1 })
  const display = await connectClient(served.mqttUrl, { clientId: 'temp-display' })
  await display.subscribeAsync('sensors/+/temp', { qos: 0 })
  const archived = collect(archive)
  const kitchen = await connectClient(served.mqttUrl, { clientId: 'kitchen-thermo' })
  const attic = await connectClient(served.mqttUrl, { clientId: 'attic-hygro' })
  return {
    publish: async () => {
      for (const celsius of [21, 22, 23]) await kitchen.publishAsync('sensors/kitchen/temp', JSON.stringify({ celsius }), { qos: 1 })
      await attic.publishAsync('sensors/attic/humidity', '{"percent":55}', { qos: 1 })
      // Delivered: the router has routed, and so recorded, every one.
      await eventually(() => archived.length === 4, 'sensor-archive to receive the four readings', TIMEOUT_MS)
    }
  }
}

test('topics: the root lists sensors and the retained config; clicking sensors, kitchen, temp reaches the topic with its count, rate, payload as text, JSON and hex, its subscribers and publisher; config/site shows its retained payload', async context => {
  const served = await serve(context)
  // Published before the monitor ever looked: listed all the same, as retained topics always are.
  const keeper = await connectClient(served.mqttUrl, { clientId: 'site-keeper' })
  await keeper.publishAsync('config/site', '{"site":"north","floors":3}', { qos: 1, retain: true })
  await eventually(() => [...served.broker.router.retainedMessages()].some(message => message.topic === 'config/site'), 'the router to hold config/site', TIMEOUT_MS)
  const sensors = await sensorClients(served)

  const page = await newPage(context)
  await page.goto(`${served.url}topics`)
  await page.getByRole('heading', { level: 1, name: 'Topics' }).waitFor()
  // $SYS holds the broker's own retained numbers.
  assert.equal(await levelNames(page), ['$SYS', 'config'], 'before any publish is watched, only the retained topics')
  assert.match(await page.locator('p.hint').first().innerText(), /Publishes watched since/)

  await sensors.publish()
  // The same address as now: wait for the new page itself, not for the URL.
  const reloaded = page.waitForResponse(response => response.request().isNavigationRequest() && new URL(response.url()).pathname === '/topics')
  await page.getByRole('navigation').getByRole('link', { name: 'Topics' }).click()
  await reloaded
  await page.waitForLoadState()
  assert.is(new URL(page.url()).search, '')
  assert.equal(await levelNames(page), ['$SYS', 'config', 'sensors'])
  const root = new Map((await rowsOf(page.getByTestId('levels'))).map(cells => [cells[0]!.replace(/ \/$/, ''), cells.slice(1)]))
  assert.equal(root.get('config'), ['1', '0/s', '0', ''], 'config: one topic, nothing published while watched; the retained mark is for the topic itself, not a level')
  assert.is(root.get('sensors')![0], '2', 'sensors: two topics under it')
  assert.is(root.get('sensors')![2], '4', 'sensors: four messages')
  await screenshot(page, 'topics-root')

  await clickLevel(page, 'sensors', 'sensors')
  assert.equal(await levelNames(page), ['attic', 'kitchen'])
  assert.match(await page.locator('p.crumbs').innerText(), /^\(root\) \/ sensors$/)
  await clickLevel(page, 'kitchen', 'sensors/kitchen')
  assert.equal(await levelNames(page), ['temp'])
  await clickLevel(page, 'temp', 'sensors/kitchen/temp')

  const detail = page.getByTestId('topic-detail')
  assert.is((await detail.getByRole('heading', { level: 2 }).first().textContent())?.trim(), 'sensors/kitchen/temp')
  const facts = await definitions(detail.locator('dl'))
  assert.is(facts.get('Messages watched'), '3 (42 B)', 'three readings of 14 bytes')
  assert.match(facts.get('Messages/s') ?? '', /^(0\.[1-9]|[1-9][\d,.]*)\/s$/, 'a non-zero rate')
  assert.match(facts.get('Last message') ?? '', /UTC, QoS 1$/)
  assert.is(facts.get('Retained'), 'no')
  assert.is(await page.getByTestId('payload').textContent(), '{"celsius":23}', 'the last payload, as text')
  assert.is(await page.getByTestId('levels').count(), 0, 'a topic with nothing under it: no empty table of levels beside its detail')

  const subscribers = await rowsOf(page.getByTestId('subscribers'))
  assert.equal(subscribers.sort((a, b) => a[0]!.localeCompare(b[0]!)), [['sensor-archive', 'sensors/#', '1'], ['temp-display', 'sensors/+/temp', '0']])
  assert.equal(await rowsOf(panel(page, /^Publishers/).locator('table')), [['kitchen-thermo', '3']])
  assert.is(await panel(page, /^Publishers/).getByRole('link', { name: 'kitchen-thermo' }).getAttribute('href'), '/connections/kitchen-thermo')
  await screenshot(page, 'topics-detail-text')

  await detail.getByRole('link', { name: 'JSON', exact: true }).click()
  await page.waitForURL(/[?&]view=json/)
  assert.is(await page.getByTestId('payload').textContent(), '{\n  "celsius": 23\n}', 'pretty-printed, indented')
  await screenshot(page, 'topics-detail-json')

  await detail.getByRole('link', { name: 'Hex', exact: true }).click()
  await page.waitForURL(/[?&]view=hex/)
  const hex = await page.getByTestId('payload').textContent() ?? ''
  assert.match(hex, /^000000 {2}7b 22 63 65 6c 73 69 75 73 22 3a 32 33 7d {8}\{"celsius":23\}$/, `offset, the bytes ({" is 7b 22) and the text: ${hex}`)
  await screenshot(page, 'topics-detail-hex')

  await page.locator('p.crumbs').getByRole('link', { name: '(root)' }).click()
  await page.waitForURL(url => url.pathname === '/topics' && url.search === '')
  await clickLevel(page, 'config', 'config')
  await clickLevel(page, 'site', 'config/site')
  const retained = await definitions(page.getByTestId('topic-detail').locator('dl'))
  assert.match(retained.get('Retained') ?? '', /^27 B, QoS 1, since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/)
  assert.is(retained.get('Messages watched'), '0 (0 B)', 'published before the watch came on')
  assert.is(retained.get('Last message'), '(none while watched)')
  await page.getByRole('heading', { level: 2, name: /^Retained payload/ }).waitFor()
  assert.is(await page.getByTestId('payload').textContent(), '{"site":"north","floors":3}')
  assert.equal(await rowsOf(panel(page, /^Publishers/).locator('table')), [['None while watched.']])
  assert.equal(await rowsOf(page.getByTestId('subscribers')), [['Nobody subscribes to it.']])
  await screenshot(page, 'topics-retained')
  await page.getByTestId('topic-detail').getByRole('link', { name: 'Hex', exact: true }).click()
  await page.waitForURL(/[?&]view=hex/)
  assert.equal((await page.getByTestId('payload').textContent() ?? '').split('\n'), [
    '000000  7b 22 73 69 74 65 22 3a 22 6e 6f 72 74 68 22 2c  {"site":"north",',
    '000010  22 66 6c 6f 6f 72 73 22 3a 33 7d                 "floors":3}'
  ], 'sixteen bytes a line')
  await screenshot(page, 'topics-retained-hex')
  assert.equal(unexpectedErrors(context), [])
})

test('message flow: sensors/# draws publishers, topics and subscribers; a filter nothing matches says so; an invalid filter is refused with 400 and says why', async context => {
  const served = await serve(context)
  const sensors = await sensorClients(served)
  const page = await newPage(context)
  // The first look switches the watch on; nothing was watched before it.
  await page.goto(`${served.url}flow?filter=sensors/%23`)
  await page.getByText('No message on a topic matching sensors/# since the watch came on', { exact: false }).waitFor()

  await sensors.publish()
  await page.reload()
  const graph = page.getByTestId('flow-graph')
  await graph.waitFor()
  assert.is(await page.getByRole('searchbox', { name: 'Topic filter' }).inputValue(), 'sensors/#')
  assert.is((await page.locator('.search .count').textContent())?.trim(), '2 topics')
  const nodes = await graph.locator('a.node').evaluateAll(links => links.map(link => ({
    kind: (link.getAttribute('class') ?? '').replace('node node-', ''),
    shown: (link.querySelector('text')?.firstChild?.textContent ?? '').trim(),
    full: (link.querySelector('title')?.textContent ?? '').trim(),
    href: link.getAttribute('href')
  })))
  const of = (kind: string): string[] => nodes.filter(node => node.kind === kind).map(node => node.full.replace(/ \([\d.,]+\/s\)$/, ''))
  assert.equal(of('publisher'), ['attic-hygro', 'kitchen-thermo'])
  assert.equal(of('topic'), ['sensors/kitchen/temp', 'sensors/attic/humidity'], 'the busiest topic first')
  assert.equal(of('subscriber'), ['sensor-archive', 'temp-display'])
  for (const node of nodes) {
    const label = node.full.replace(/ \([\d.,]+\/s\)$/, '')
    assert.ok(node.shown === label || (node.shown.endsWith('…') && label.startsWith(node.shown.slice(0, -1))), `node "${label}" shows its name, or its start: "${node.shown}"`)
  }
  assert.is(nodes.find(node => node.full.startsWith('sensors/kitchen/temp'))?.href, '/topics?prefix=sensors%2Fkitchen%2Ftemp')
  // kitchen-thermo -> temp, attic-hygro -> humidity; temp -> both subscribers, humidity -> the archive.
  assert.is(await graph.locator('path.edge').count(), 5)
  // Each topic's rate is written under its node: readable, not hidden behind the next node.
  const hidden = await graph.evaluate(svg => {
    const boxes = [...svg.querySelectorAll('a.node rect')].map(rect => (rect as SVGGraphicsElement).getBBox())
    return [...svg.querySelectorAll('text.rate')].map(text => (text as SVGGraphicsElement).getBBox()).filter(rate =>
      boxes.some(box => rate.x < box.x + box.width && box.x < rate.x + rate.width && rate.y < box.y + box.height && box.y < rate.y + rate.height)).length
  })
  assert.is(hidden, 0, 'no rate under a node')
  const rates = await graph.locator('text.rate').allTextContents()
  assert.is(rates.length, 2, 'a rate under each topic')
  for (const rate of rates) assert.match(rate, /^(0\.[1-9]|[1-9][\d,.]*)\/s$/, 'a non-zero rate')
  await screenshot(page, 'flow')

  await page.getByRole('searchbox', { name: 'Topic filter' }).fill('lights/#')
  await page.getByRole('button', { name: 'Show' }).click()
  await page.waitForURL(url => url.searchParams.get('filter') === 'lights/#')
  await page.getByText('No message on a topic matching lights/# since the watch came on', { exact: false }).waitFor()
  assert.is(await page.getByTestId('flow-graph').count(), 0)
  assert.is((await page.locator('.search .count').textContent())?.trim(), '0 topics')
  await screenshot(page, 'flow-nothing-matches')

  await page.getByRole('searchbox', { name: 'Topic filter' }).fill('a/#/b')
  const refused = page.waitForResponse(response => new URL(response.url()).pathname === '/flow' && response.request().isNavigationRequest())
  await page.getByRole('button', { name: 'Show' }).click()
  assert.is((await refused).status(), 400)
  assert.match(await page.getByRole('alert').innerText(), /^Not a topic filter \(.+\): use levels separated by \/, \+ for one level and # for the rest\.$/)
  assert.is(await page.getByRole('searchbox', { name: 'Topic filter' }).inputValue(), 'a/#/b', 'the filter stays in the box to be corrected')
  assert.is(await page.getByTestId('flow-graph').count(), 0)
  await screenshot(page, 'flow-invalid-filter')
  assert.equal(unexpectedErrors(context, '400 /flow'), [])
})

test('message flow redraws itself: a publisher that starts later appears without a reload by hand', async context => {
  const served = await serve(context)
  const sensors = await sensorClients(served)
  const page = await newPage(context)
  await page.goto(`${served.url}flow?filter=sensors/%23`)
  await sensors.publish()
  await page.reload()
  await page.getByTestId('flow-graph').waitFor()
  const latecomer = await connectClient(served.mqttUrl, { clientId: 'cellar-thermo' })
  await latecomer.publishAsync('sensors/cellar/temp', '{"celsius":12}', { qos: 1 })
  await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="flow-graph"] a.node title')].some(title => (title.textContent ?? '').startsWith('cellar-thermo')), undefined, { timeout: 15_000 })
  assert.equal(unexpectedErrors(context), [])
})

test('system: the Node.js version, the listener on the broker\'s port, and the memory store', async context => {
  const served = await serve(context)
  const page = await newPage(context)
  await page.goto(`${served.url}system`)
  const processFacts = await definitions(panel(page, /^Process$/).locator('dl'))
  assert.is(processFacts.get('Node.js'), process.version)
  assert.is(processFacts.get('Process id'), String(process.pid))
  const listeners = await rowsOf(panel(page, /^Listeners$/).locator('table'))
  assert.is(listeners.length, 1)
  assert.equal(listeners[0]!.slice(0, 2), ['tcp', `127.0.0.1:${served.broker.port}`])
  const storage = await definitions(panel(page, /^Storage$/).locator('dl'))
  assert.is(storage.get('Store'), 'memory')
  assert.match(storage.get('Survives a restart') ?? '', /^no/)
  await screenshot(page, 'system-memory')
  assert.equal(unexpectedErrors(context), [])
})

test('system: a LevelDB broker shows LevelDB, its data directory, durability and a size on disk', async context => {
  const served = await serve(context, { yaml: 'log-level: info\nstorage: level\ndata-dir: $DIR/data\n' })
  const keeper = await connectClient(served.mqttUrl, { clientId: 'level-keeper' })
  await keeper.publishAsync('kept/here', 'stored on disk', { qos: 1, retain: true })
  const page = await newPage(context)
  await page.goto(`${served.url}system`)
  const storage = await definitions(panel(page, /^Storage$/).locator('dl'))
  assert.is(storage.get('Store'), 'LevelDB')
  assert.is(storage.get('Data directory'), join(served.dir, 'data'))
  assert.is(storage.get('Durability'), 'fsync')
  assert.match(storage.get('Size on disk') ?? '', /^[\d,.]+ (B|KiB|MiB)$/)
  assert.is.not(storage.get('Size on disk'), '0 B', 'LevelDB\'s files take room')
  await screenshot(page, 'system-level')
  assert.equal(unexpectedErrors(context), [])
})

test('logs: the broker\'s "client connected" lines are listed; level warn hides info lines; the text filter keeps matching lines; a new connection appears at the top live, without a reload', async context => {
  const served = await serve(context, {
    yaml: 'log-level: info\npassword-file: $DIR/passwd\nallow-anonymous: true\n',
    prepare: async dir => {
      writeFileSync(join(dir, 'passwd'), `${formatPasswordFileLine('operator', await hashPassword(Buffer.from('right password'), 1000))}\n`, { mode: 0o600 })
    }
  })
  await connectClient(served.mqttUrl, { clientId: 'log-first' })
  await connectClient(served.mqttUrl, { clientId: 'log-second' })
  // A refused login: a warn line.
  let refusal: unknown
  await connectClient(served.mqttUrl, { clientId: 'log-intruder', username: 'operator', password: 'guess' }).catch(error => { refusal = error })
  assert.ok(refusal !== undefined, 'the wrong password is refused')
  await eventually(() => served.recentLogs.entries().some(entry => entry.message === 'login failed'), 'the broker to log the failed login', TIMEOUT_MS)

  const page = await newPage(context)
  await page.goto(`${served.url}logs`)
  const lines = page.locator('table.logs')
  const listed = async (): Promise<Array<{ level: string, message: string, fields: string }>> =>
    (await rowsOf(lines)).filter(cells => cells.length === 4).map(([, level, message, fields]) => ({ level: level!, message: message!, fields: fields! }))
  const all = await listed()
  assert.ok(all.some(line => line.level === 'info' && line.message === 'client connected' && line.fields.includes('clientId=log-first')), 'log-first\'s connection is listed')
  assert.ok(all.some(line => line.level === 'warn' && line.message === 'login failed' && line.fields.includes('clientId=log-intruder')), 'the failed login is listed')
  assert.ok(all.some(line => line.message.startsWith('monitor listening')), 'the monitor\'s own start line too')
  const second = all.findIndex(line => line.message === 'client connected' && line.fields.includes('clientId=log-second'))
  const first = all.findIndex(line => line.message === 'client connected' && line.fields.includes('clientId=log-first'))
  assert.ok(second >= 0 && second < first, 'newest first')
  await screenshot(page, 'logs')

  await page.getByLabel('Level at least').selectOption('warn')
  await page.getByRole('button', { name: 'Filter' }).click()
  await page.waitForURL(url => url.searchParams.get('level') === 'warn')
  const warnings = await listed()
  assert.ok(warnings.some(line => line.message === 'login failed'), 'the warn line stays')
  assert.equal(warnings.filter(line => !['warn', 'error', 'fatal'].includes(line.level)), [], 'no line below warn')
  assert.is(await page.getByLabel('Level at least').inputValue(), 'warn', 'the chosen level stays selected')

  await page.getByLabel('Level at least').selectOption('trace')
  await page.getByRole('searchbox', { name: 'Filter log lines' }).fill('LOG-SECOND')
  await page.getByRole('button', { name: 'Filter' }).click()
  await page.waitForURL(url => url.searchParams.get('q') === 'LOG-SECOND')
  const matching = await listed()
  assert.ok(matching.some(line => line.message === 'client connected' && line.fields.includes('clientId=log-second')))
  assert.equal(matching.filter(line => !`${line.message} ${line.fields}`.toLowerCase().includes('log-second')), [], 'only lines that mention log-second, whatever the case')
  await screenshot(page, 'logs-filtered')

  await page.getByRole('searchbox', { name: 'Filter log lines' }).fill('no line says this')
  await page.getByRole('button', { name: 'Filter' }).click()
  await page.waitForURL(url => url.searchParams.get('q') === 'no line says this')
  assert.equal(await rowsOf(lines), [['No log line matches.']])

  // The live tail: once its event stream is open (the server subscribes before it answers), a
  // new line arrives on the open page.
  const tail = page.waitForResponse(response => new URL(response.url()).pathname === '/logs/events')
  await page.goto(`${served.url}logs`)
  assert.is((await tail).status(), 200)
  await page.evaluate(() => { (window as unknown as { notReloaded: boolean }).notReloaded = true })
  await connectClient(served.mqttUrl, { clientId: 'log-live' })
  await page.waitForFunction(() => {
    const cells = [...document.querySelectorAll('#log-lines tr:first-child td')].map(cell => cell.textContent)
    return cells[2] === 'client connected' && (cells[3] ?? '').includes('clientId=log-live')
  })
  assert.ok(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded === true), 'the line came without a reload')
  const top = (await listed())[0]!
  assert.is(top.level, 'info')
  assert.match((await rowsOf(lines))[0]![0]!, /^\d\d:\d\d:\d\d\.\d{3}$/, 'with its time, as the server writes it')
  await screenshot(page, 'logs-live')
  assert.equal(unexpectedErrors(context), [])
})

test('configuration: every option with its source; log-level set to debug in the form applies at once and is saved to the YAML file; "loud" is refused and changes nothing; max-inflight cannot change at run time (400)', async context => {
  const served = await serve(context, { yaml: '# written by the test\nlog-level: info\n' })
  const page = await newPage(context)
  await page.goto(`${served.url}configuration`)
  const table = page.locator('table.config')
  /** Option name -> the "From" column. */
  const sources = async (): Promise<Map<string, string>> => new Map(await table.locator('tbody tr').evaluateAll(rows => rows.map(row => [row.id.replace(/^setting-/, ''), (row.querySelectorAll('td')[2]?.textContent ?? '').trim()] as [string, string])))
  const before = await sources()
  assert.equal([...before.keys()].sort(), Object.values(OPTIONS).map(option => option.name).sort(), 'every option, once')
  const changeable = await table.first().locator('tbody tr').evaluateAll(rows => rows.map(row => row.id.replace(/^setting-/, '')))
  assert.ok(changeable.includes('log-level') && !changeable.includes('max-inflight'), 'the settings that change at run time come first, in their own table')
  const flags = ['host', 'port', 'monitor-port']
  for (const [name, source] of before) {
    const expected = name === 'log-level' ? 'file' : flags.includes(name) ? 'flag' : 'default'
    assert.is(source, expected, `${name} comes from ${expected}`)
  }
  const maxInflight = page.locator('#setting-max-inflight')
  assert.is((await maxInflight.locator('td').nth(1).textContent())?.trim(), '100')
  assert.is(await maxInflight.getByRole('button', { name: 'Apply' }).count(), 0, 'no form for a setting read at start')
  await screenshot(page, 'configuration')

  const logLevel = page.locator('#setting-log-level')
  const input = logLevel.getByRole('textbox', { name: 'log-level' })
  assert.is(await input.inputValue(), 'info')
  await input.fill('debug')
  await logLevel.getByRole('button', { name: 'Apply' }).click()
  await page.waitForURL(url => url.pathname === '/configuration' && url.searchParams.has('changed'))
  assert.is((await page.getByRole('status').textContent())?.trim(), `log-level is now debug (saved to ${served.configFile})`)
  assert.is(served.log.level, 'debug', 'the broker logs at debug from now on')
  assert.is(served.broker.log.level, 'debug')
  const saved = readFileSync(served.configFile, 'utf8')
  assert.equal(parseYaml(saved), { 'log-level': 'debug' }, `the file now says debug: ${saved}`)
  assert.match(saved, /^# written by the test$/m, 'the file\'s comment is kept')
  assert.is(await input.inputValue(), 'debug')
  assert.is((await sources()).get('log-level'), 'monitor')
  await screenshot(page, 'configuration-changed')

  await input.fill('loud')
  const refused = page.waitForResponse(response => new URL(response.url()).pathname === '/configuration' && response.request().method() === 'POST')
  await logLevel.getByRole('button', { name: 'Apply' }).click()
  assert.is((await refused).status(), 400)
  assert.is((await page.getByRole('alert').textContent())?.trim(), 'invalid log-level "loud" (from monitor): expected one of fatal, error, warn, info, debug, trace, silent')
  assert.is(served.log.level, 'debug', 'the level in force is unchanged')
  assert.equal(parseYaml(readFileSync(served.configFile, 'utf8')), { 'log-level': 'debug' }, 'the file is unchanged')
  assert.is(await input.inputValue(), 'loud', 'the form keeps what was typed, to be corrected')
  assert.match(await input.getAttribute('class') ?? '', /invalid/)
  assert.is((await logLevel.getByTestId('in-force').innerText()).trim(), 'in force: debug')
  await screenshot(page, 'configuration-invalid')
  // The page is long: the error at its top and the row at its bottom, at full size.
  await page.screenshot({ path: `${ARTIFACTS}configuration-invalid-top.png` })
  await logLevel.screenshot({ path: `${ARTIFACTS}configuration-invalid-row.png` })

  const csrf = await logLevel.locator('input[name="csrf"]').inputValue()
  const readAtStart = await page.request.post(`${served.url}configuration`, { form: { csrf, name: 'max-inflight', value: '5' }, maxRedirects: 0 })
  assert.is(readAtStart.status(), 400)
  assert.match(await readAtStart.text(), /invalid max-inflight &quot;5&quot; \(from monitor\): this setting is read at start: change it in the configuration and restart the broker/)
  const forged = await page.request.post(`${served.url}configuration`, { form: { csrf: 'forged', name: 'log-level', value: 'trace' }, maxRedirects: 0 })
  assert.is(forged.status(), 403, 'without the page\'s CSRF token')
  assert.is(served.broker.config.maxInflight, 100)
  assert.is(served.log.level, 'debug')
  assert.equal(parseYaml(readFileSync(served.configFile, 'utf8')), { 'log-level': 'debug' })
  await page.reload()
  assert.is((await maxInflight.locator('td').nth(1).textContent())?.trim(), '100')
  assert.is((await sources()).get('max-inflight'), 'default')
  assert.equal(unexpectedErrors(context, '400 /configuration'), [])
})

test.run()
