import * as assert from 'uvu/assert'
import { loadConfig } from '../../runtime/config/load-config.js'
import { OPTIONS } from '../../runtime/config/options.js'
import { resolveListeners } from '../../runtime/config/resolve-listeners.js'
import { configError, configSuite, yamlFile } from '../helpers/config-files.js'

/** The listener options through the real loader: flags, environment, the YAML `listeners:` list, and their checks. */

const test = configSuite('config: listeners')



test('the new options follow the naming of every other option', () => {
  const expected = [['tlsPort', 'tls-port'], ['tlsCert', 'tls-cert'], ['tlsKey', 'tls-key'], ['tlsCa', 'tls-ca'], ['wsPort', 'ws-port'], ['wsPath', 'ws-path'], ['wssPort', 'wss-port'], ['listeners', 'listeners']] as const
  for (const [key, name] of expected) {
    assert.is(OPTIONS[key].name, name)
    assert.is(OPTIONS[key].env, `TROUPE_${name.toUpperCase().replaceAll('-', '_')}`)
  }
})

test('default: one TCP listener on host and port, nothing else', () => {
  const { config } = loadConfig({})
  assert.equal(resolveListeners(config), [{ label: 'tcp listener (--port)', type: 'tcp', host: '0.0.0.0', port: 1883 }])
  assert.is(config.wsPath, '/mqtt')
  assert.equal(config.listeners, [])
})

test('flags open tls, ws and wss listeners on --host, with the shared certificate', () => {
  const { config } = loadConfig({ flags: { host: '127.0.0.1', 'tls-port': '8883', 'tls-cert': 'server.pem', 'tls-key': 'server.key', 'ws-port': '8080', 'ws-path': '/ws', 'wss-port': '8081' } })
  const specs = resolveListeners(config)
  assert.equal(specs.map(spec => [spec.type, spec.host, spec.port, 'path' in spec ? spec.path : undefined]), [
    ['tcp', '127.0.0.1', 1883, undefined], ['tls', '127.0.0.1', 8883, undefined], ['ws', '127.0.0.1', 8080, '/ws'], ['wss', '127.0.0.1', 8081, '/ws']
  ])
  const tls = specs[1]!.type === 'tls' ? specs[1]!.tls : undefined
  assert.equal(tls, { cert: 'server.pem', key: 'server.key', ca: undefined, minVersion: 'TLSv1.2', ciphers: undefined, requireCertificate: false, identityField: undefined })
})

test('environment variables work the same, and --tls-ca makes client certificates required', () => {
  const { config, sources } = loadConfig({ env: { TROUPE_TLS_PORT: '0', TROUPE_TLS_CERT: 'c.pem', TROUPE_TLS_KEY: 'k.pem', TROUPE_TLS_CA: 'ca.pem', TROUPE_WS_PORT: '0' } })
  assert.is(sources.tlsPort, 'env')
  const [, tls, ws] = resolveListeners(config)
  assert.is(tls!.type, 'tls')
  assert.ok(tls!.type === 'tls' && tls!.tls.requireCertificate && tls!.tls.ca === 'ca.pem')
  assert.is(ws!.type, 'ws')
})

test('a TLS port without a certificate is a ConfigError naming the option and where it came from', () => {
  for (const [load, source] of [
    [() => loadConfig({ flags: { 'tls-port': '8883' } }), '--tls-port'],
    [() => loadConfig({ env: { TROUPE_WSS_PORT: '8884', TROUPE_TLS_CERT: 'c.pem' } }), 'TROUPE_WSS_PORT']
  ] as const) {
    const error = configError(load)
    assert.ok(error.message.includes(source) && error.message.includes('tls-cert and tls-key'), error.message)
  }
})

test('a YAML listeners list, each entry taking what it leaves out from the other options', ({ dir }) => {
  const file = yamlFile(dir, [
    'host: 127.0.0.1',
    'tls-cert: shared.pem',
    'tls-key: shared.key',
    'listeners:',
    '  - { type: tcp, port: 1884, host: 0.0.0.0 }',
    '  - { type: ws, port: 9001 }',
    '  - type: tls',
    '    port: 8883',
    '    ca: ca.pem',
    '    minVersion: TLSv1.3',
    '    ciphers: TLS_AES_256_GCM_SHA384',
    '    requireCertificate: true',
    '    useIdentityAsUsername: true',
    '  - { type: wss, port: 8884, path: /secure, cert: own.pem, key: own.key, requireCertificate: true, ca: ca.pem, useIdentityAsUsername: true, identityField: email }',
    ''
  ].join('\n'))
  const specs = resolveListeners(loadConfig({ file }).config)
  assert.equal(specs.map(spec => [spec.label, spec.host, spec.port]), [
    ['tcp listener (--port)', '127.0.0.1', 1883],
    ['listeners[0] (tcp)', '0.0.0.0', 1884],
    ['listeners[1] (ws)', '127.0.0.1', 9001],
    ['listeners[2] (tls)', '127.0.0.1', 8883],
    ['listeners[3] (wss)', '127.0.0.1', 8884]
  ])
  assert.ok(specs[2]!.type === 'ws' && specs[2]!.path === '/mqtt')
  assert.equal(specs[3]!.type === 'tls' ? specs[3]!.tls : undefined, { cert: 'shared.pem', key: 'shared.key', ca: 'ca.pem', minVersion: 'TLSv1.3', ciphers: 'TLS_AES_256_GCM_SHA384', requireCertificate: true, identityField: 'cn' })
  const wss = specs[4]!
  assert.ok(wss.type === 'wss' && wss.path === '/secure' && wss.tls.cert === 'own.pem' && wss.tls.identityField === 'email')
})

test('the list in YAML flow style from a flag or variable', () => {
  const fromFlag = loadConfig({ flags: { listeners: '[{type: ws, port: 9001, path: /a}]' } })
  assert.equal(fromFlag.config.listeners, [{ type: 'ws', port: 9001, host: undefined, path: '/a', cert: undefined, key: undefined, ca: undefined, minVersion: undefined, ciphers: undefined, requireCertificate: undefined, useIdentityAsUsername: undefined, identityField: undefined, proxyProtocol: undefined }])
  assert.is(fromFlag.sources.listeners, 'flag')
  const fromEnv = loadConfig({ env: { TROUPE_LISTENERS: '- {type: tcp, port: 1885}' } })
  assert.is(fromEnv.config.listeners[0]!.port, 1885)
})

const BAD: Array<[string, string, string[]]> = [
  ['not a list', 'listeners: {type: tcp}', ['listeners', 'list of listeners']],
  ['an unknown type', 'listeners: [{type: quic, port: 1}]', ['listeners[0].type', '"quic"', 'tcp, tls, ws, wss']],
  ['no port', 'listeners: [{type: ws}]', ['listeners[0].port', 'from 0 to 65535']],
  ['a port out of range', 'listeners: [{type: ws, port: 70000}]', ['listeners[0].port', '70000']],
  ['an unknown key', 'listeners: [{type: ws, port: 1, prot: 2}]', ['listeners[0].prot', 'unknown listener key']],
  ['a TLS key on a plain listener', 'listeners: [{type: ws, port: 1, cert: a.pem}]', ['listeners[0].cert', 'only a tls or wss listener']],
  ['a path on a TCP listener', 'listeners: [{type: tcp, port: 1, path: /x}]', ['listeners[0].path', 'only a ws or wss listener']],
  ['a path without its slash', 'listeners: [{type: ws, port: 1, path: mqtt}]', ['listeners[0].path', 'starting with /']],
  ['a TLS listener without certificate', 'listeners: [{type: tls, port: 1}]', ['listeners[0]', 'needs cert and key']],
  ['an unknown TLS version', 'listeners: [{type: tls, port: 1, cert: a, key: b, minVersion: SSLv3}]', ['listeners[0].minVersion', 'TLSv1.2, TLSv1.3']],
  ['requireCertificate without a CA', 'listeners: [{type: tls, port: 1, cert: a, key: b, requireCertificate: true}]', ['listeners[0].requireCertificate', 'give ca']],
  ['requireCertificate not a boolean', 'listeners: [{type: tls, port: 1, cert: a, key: b, requireCertificate: yes please}]', ['listeners[0].requireCertificate', 'true or false']],
  ['useIdentityAsUsername without requireCertificate', 'listeners: [{type: tls, port: 1, cert: a, key: b, useIdentityAsUsername: true}]', ['listeners[0].useIdentityAsUsername', 'requireCertificate: true']],
  ['identityField without useIdentityAsUsername', 'listeners: [{type: tls, port: 1, cert: a, key: b, ca: c, requireCertificate: true, identityField: cn}]', ['listeners[0].identityField', 'useIdentityAsUsername']],
  ['an unknown identityField', 'listeners: [{type: tls, port: 1, cert: a, key: b, ca: c, requireCertificate: true, useIdentityAsUsername: true, identityField: ou}]', ['listeners[0].identityField', 'cn, dns, email, uri']],
  ['two listeners on one port', 'port: 1883\nlisteners: [{type: ws, port: 1883, host: 0.0.0.0}]', ['0.0.0.0:1883', 'tcp listener (--port)', 'listeners[0] (ws)']],
  ['a bad ws-path', 'ws-path: "no slash"', ['ws-path', 'starting with /']]
]

for (const [name, yaml, expected] of BAD) {
  test(`${name} is a ConfigError naming it and the file`, ({ dir }) => {
    const file = yamlFile(dir, `${yaml}\n`)
    const error = configError(() => loadConfig({ file }))
    for (const text of [...expected, file]) assert.ok(error.message.includes(text), `"${text}" in: ${error.message}`)
  })
}

test('ports of 0 may repeat: each picks its own', () => {
  const { config } = loadConfig({ flags: { port: '0', 'ws-port': '0', listeners: '[{type: ws, port: 0}, {type: tcp, port: 0}]' } })
  assert.is(resolveListeners(config).length, 4)
})

test.run()
