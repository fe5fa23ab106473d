import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import * as assert from 'uvu/assert'
import { loadConfig } from '../../runtime/config/load-config.js'
import { OPTIONS } from '../../runtime/config/options.js'
import { watermarkBytes } from '../../runtime/limits/memory-watermark.js'
import { configError, configSuite } from '../helpers/config-files.js'

/** The limit options through the real loader: defaults, flags, environment, YAML, and the errors for bad values. */

const test = configSuite('config: limits')


const LIMITS = {
  maxConnections: ['max-connections', 0],
  maxConnectionsPerAddress: ['max-connections-per-address', 0],
  maxConnectionRate: ['max-connection-rate', 0],
  maxClientIdLength: ['max-client-id-length', 65535],
  maxTopicLength: ['max-topic-length', 65535],
  maxTopicLevels: ['max-topic-levels', 128],
  maxSubscriptions: ['max-subscriptions', 0],
  maxQueuedBytes: ['max-queued-bytes', 0],
  maxMessageRate: ['max-message-rate', 0],
  maxBandwidth: ['max-bandwidth', 0],
  memoryWatermark: ['memory-watermark', '80%']
} as const

test('each limit has its name, variable and default, and the defaults let normal clients in', () => {
  const { config } = loadConfig({})
  for (const [key, [name, defaultValue]] of Object.entries(LIMITS) as Array<[keyof typeof LIMITS, readonly [string, number | string]]>) {
    assert.is(OPTIONS[key].name, name)
    assert.is(OPTIONS[key].env, `TROUPE_${name.toUpperCase().replaceAll('-', '_')}`)
    assert.is(config[key], defaultValue, `${name} defaults to ${defaultValue}`)
    assert.ok(OPTIONS[key].description.length > 20, `${name} says what it does`)
  }
  for (const [key] of Object.entries(LIMITS).filter(([, [, defaultValue]]) => defaultValue === 0) as Array<[keyof typeof LIMITS, unknown]>) {
    assert.match(OPTIONS[key].description, '0: no limit', `${OPTIONS[key].name} says what 0 means`)
  }
})

test('limits are read from flags, the environment and YAML', ({ dir }) => {
  const file = join(dir, 'limits.yaml')
  writeFileSync(file, 'max-connections: 5000\nmax-topic-levels: 32\nmemory-watermark: 75%\nmax-queued-bytes: 1048576\n')
  const { config, sources } = loadConfig({
    file,
    env: { TROUPE_MAX_CONNECTIONS_PER_ADDRESS: '20', TROUPE_MEMORY_WATERMARK: '1073741824' },
    flags: { 'max-message-rate': '100', 'max-bandwidth': '65536', 'max-client-id-length': '128', 'max-subscriptions': '50', 'max-connection-rate': '10', 'max-topic-length': '1024' }
  })
  assert.is(config.maxConnections, 5000)
  assert.is(config.maxTopicLevels, 32)
  assert.is(config.maxQueuedBytes, 1048576)
  assert.is(config.maxConnectionsPerAddress, 20)
  assert.is(config.memoryWatermark, 1073741824, 'the environment wins over the file')
  assert.is(sources.memoryWatermark, 'env')
  assert.is(config.maxMessageRate, 100)
  assert.is(config.maxBandwidth, 65536)
  assert.is(config.maxClientIdLength, 128)
  assert.is(config.maxSubscriptions, 50)
  assert.is(config.maxConnectionRate, 10)
  assert.is(config.maxTopicLength, 1024)
})

test('a bad limit is a ConfigError naming the option, the value and what is allowed', () => {
  const bad: Array<[string, string, RegExp]> = [
    ['max-connections', '-1', /from 0 to/],
    ['max-connections-per-address', 'many', /whole number/],
    ['max-connection-rate', '1.5', /whole number/],
    // The protocol obliges a server to accept client ids of 23 bytes [MQTT-3.1.3-5].
    ['max-client-id-length', '22', /from 23 to 65535/],
    ['max-topic-length', '70000', /from 1 to 65535/],
    ['max-topic-levels', '0', /from 1 to 65535/],
    ['max-subscriptions', 'unlimited', /whole number/],
    ['max-queued-bytes', '1e6', /whole number/],
    ['max-message-rate', '', /whole number/],
    ['max-bandwidth', '-5', /whole number/],
    ['memory-watermark', '150%', /percentage .* from 1% to 100%/],
    ['memory-watermark', 'lots', /whole number of bytes/],
    ['memory-watermark', '-1', /whole number of bytes/]
  ]
  for (const [name, value, allowed] of bad) {
    const error = configError(() => loadConfig({ flags: { [name]: value } }))
    assert.is(error.key, name)
    assert.is(error.value, value)
    assert.is(error.source, `--${name}`)
    assert.match(error.message, allowed, `${name} ${value}: ${error.message}`)
  }
})

test('memory-watermark: bytes are used as they are, a percentage is of the memory available, 0 is off', () => {
  assert.is(watermarkBytes(536870912, 8 * 1024 ** 3), 536870912)
  assert.is(watermarkBytes('80%', 10_000_000_000), 8_000_000_000)
  assert.is(watermarkBytes('12.5%', 8_000), 1_000)
  assert.is(watermarkBytes(0), 0)
  assert.is(loadConfig({ flags: { 'memory-watermark': ' 90 % ' } }).config.memoryWatermark, '90%')
  assert.is(loadConfig({ flags: { 'memory-watermark': '0' } }).config.memoryWatermark, 0)
})

test.run()
