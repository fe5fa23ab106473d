import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { connectionRefusal } from '../helpers/connection-refusal.js'
import { closeAllClients, connectClient } from '../helpers/mqtt-clients.js'
import { killAll, runCli, startCliBroker } from '../helpers/processes.js'

/** The limit options through the real command line: bad values stop the start, good ones act. */

const test = suite<{ dir: string }>('cli: limits')

test.before(context => { context.dir = mkdtempSync(join(tmpdir(), 'troupe-cli-limits-')) })
test.after(context => { rmSync(context.dir, { recursive: true, force: true }) })
test.after.each(async () => {
  await closeAllClients()
  await killAll()
})

const BAD: Array<{ readonly args: string[], readonly env?: Record<string, string>, readonly names: string[] }> = [
  { args: ['--memory-watermark', 'lots'], names: ['memory-watermark', '"lots"', '--memory-watermark', 'percentage'] },
  { args: ['--max-client-id-length', '8'], names: ['max-client-id-length', '"8"', 'from 23 to 65535'] },
  { args: [], env: { TROUPE_MAX_TOPIC_LEVELS: '0' }, names: ['max-topic-levels', '"0"', 'TROUPE_MAX_TOPIC_LEVELS', 'from 1 to 65535'] }
]

for (const bad of BAD) {
  test(`${[...bad.args, ...Object.entries(bad.env ?? {}).map(pair => pair.join('='))].join(' ')}: exits 2 with one line naming the option`, async () => {
    const result = await runCli(bad.args, bad.env ?? {})
    assert.is(result.code, 2, `exit code\n${result.stdout}${result.stderr}`)
    const lines = result.stderr.split('\n').filter(line => line.trim().length > 0)
    assert.is(lines.length, 1, `one line:\n${result.stderr}`)
    for (const text of bad.names) assert.ok(lines[0]!.includes(text), `"${text}" in: ${lines[0]}`)
  })
}

test('limits from a config file act in the real process: max-connections 1 refuses the second client with return code 3', async ({ dir }) => {
  const config = join(dir, 'limits.yaml')
  writeFileSync(config, 'max-connections: 1\nmax-topic-levels: 16\nmemory-watermark: 95%\n')
  const cli = await startCliBroker(['--config', config])
  const url = `mqtt://127.0.0.1:${cli.port}`
  await connectClient(url, { clientId: 'first' })
  assert.match(await connectionRefusal(url, { clientId: 'second' }), 'Server unavailable')
})

test.run()
