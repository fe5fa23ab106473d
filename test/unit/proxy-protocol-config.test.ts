import * as assert from 'uvu/assert'
import { loadConfig } from '../../runtime/config/load-config.js'
import { OPTIONS } from '../../runtime/config/options.js'
import { resolveListeners, type ListenerSpec } from '../../runtime/config/resolve-listeners.js'
import { configError, configSuite, yamlFile } from '../helpers/config-files.js'

/** The PROXY protocol settings through the real loader: --proxy-protocol, its variable and file key, and listeners entries. */

const test = configSuite('config: PROXY protocol')



function proxyProtocolOf (spec: ListenerSpec): unknown {
  return spec.type === 'tcp' ? spec.proxyProtocol : undefined
}

test('proxy-protocol is named like every other option, and off by default', () => {
  assert.is(OPTIONS.proxyProtocol.name, 'proxy-protocol')
  assert.is(OPTIONS.proxyProtocol.env, 'TROUPE_PROXY_PROTOCOL')
  const { config } = loadConfig({})
  assert.is(config.proxyProtocol, false)
  assert.is(proxyProtocolOf(resolveListeners(config)[0]!), undefined)
})

test('from a flag, the environment or the file, it puts the --port listener behind the balancer, with the connect timeout for its header', ({ dir }) => {
  for (const loaded of [
    loadConfig({ flags: { 'proxy-protocol': 'true', 'connect-timeout': '5' } }),
    loadConfig({ env: { TROUPE_PROXY_PROTOCOL: 'yes', TROUPE_CONNECT_TIMEOUT: '5' } }),
    loadConfig({ file: yamlFile(dir, 'proxy-protocol: true\nconnect-timeout: 5\n') })
  ]) {
    assert.equal(proxyProtocolOf(resolveListeners(loaded.config)[0]!), { headerTimeoutMs: 5000 })
  }
  const off = loadConfig({ flags: { 'proxy-protocol': 'false' }, env: { TROUPE_PROXY_PROTOCOL: 'true' } })
  assert.is(off.sources.proxyProtocol, 'flag')
  assert.is(proxyProtocolOf(resolveListeners(off.config)[0]!), undefined)
})

test('a value that is not true or false is a ConfigError naming the option and where it came from', () => {
  for (const [load, source] of [
    [() => loadConfig({ flags: { 'proxy-protocol': 'maybe' } }), '--proxy-protocol'],
    [() => loadConfig({ env: { TROUPE_PROXY_PROTOCOL: '1' } }), 'TROUPE_PROXY_PROTOCOL']
  ] as const) {
    const error = configError(load)
    for (const text of ['proxy-protocol', source, 'true or false']) assert.ok(error.message.includes(text), `"${text}" in: ${error.message}`)
  }
})

test('a tcp listeners entry takes proxyProtocol for itself; the others and the --port listener do not inherit it', ({ dir }) => {
  const file = yamlFile(dir, [
    'connect-timeout: 7',
    'listeners:',
    '  - { type: tcp, port: 1884, proxyProtocol: true }',
    '  - { type: tcp, port: 1885, proxyProtocol: false }',
    '  - { type: tcp, port: 1886 }',
    ''
  ].join('\n'))
  const specs = resolveListeners(loadConfig({ file }).config)
  assert.equal(specs.map(proxyProtocolOf), [undefined, { headerTimeoutMs: 7000 }, undefined, undefined])
  const withFlag = resolveListeners(loadConfig({ file, flags: { 'proxy-protocol': 'true' } }).config)
  assert.equal(withFlag.map(spec => proxyProtocolOf(spec) !== undefined), [true, true, false, false])
})

const BAD: Array<[string, string, string[]]> = [
  ['proxyProtocol on a tls entry', 'listeners: [{type: tls, port: 1, cert: a, key: b, proxyProtocol: true}]', ['listeners[0].proxyProtocol', 'only a tcp listener', 'tls']],
  ['proxyProtocol on a ws entry', 'listeners: [{type: ws, port: 1, proxyProtocol: true}]', ['listeners[0].proxyProtocol', 'only a tcp listener', 'ws']],
  ['proxyProtocol on a wss entry', 'listeners: [{type: wss, port: 1, proxyProtocol: false}]', ['listeners[0].proxyProtocol', 'only a tcp listener', 'wss']],
  ['proxyProtocol that is not a boolean', 'listeners: [{type: tcp, port: 1, proxyProtocol: v2}]', ['listeners[0].proxyProtocol', '"v2"', 'true or false']]
]

for (const [name, yaml, expected] of BAD) {
  test(`${name} is a ConfigError naming it and the file`, ({ dir }) => {
    const file = yamlFile(dir, `${yaml}\n`)
    const error = configError(() => loadConfig({ file }))
    for (const text of [...expected, file]) assert.ok(error.message.includes(text), `"${text}" in: ${error.message}`)
  })
}

test.run()
