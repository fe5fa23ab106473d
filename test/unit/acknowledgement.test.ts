import mqttPacket from 'mqtt-packet'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { acknowledgement, encodeAcknowledgement } from '../../actors/connection/protocol/acknowledgement.js'
import { encodeV3Connack } from '../../actors/connection/handlers/connack.js'
import { capabilitiesFor } from '../../actors/connection/protocol/protocol-version.js'

/** The acknowledgements the broker encodes itself are byte for byte what mqtt-packet writes. */

const test = suite('acknowledgement encoding')

const COMMANDS = ['puback', 'pubrec', 'pubrel', 'pubcomp'] as const

test('[MQTT-3.6.1-1] MQTT 3.1 and 3.1.1: the four acknowledgements, PUBREL with flags 0010, are mqtt-packet\'s bytes', () => {
  for (const level of [3, 4] as const) {
    for (const cmd of COMMANDS) {
      for (const messageId of [1, 255, 256, 65535]) {
        const ack = acknowledgement(capabilitiesFor(level)!, cmd, messageId)
        assert.equal(encodeAcknowledgement(ack), mqttPacket.generate(ack, { protocolVersion: level }), `${cmd} ${messageId} at level ${level}`)
      }
    }
  }
})

test('MQTT 5: Success in the short form, other reason codes with their byte, as mqtt-packet writes them', () => {
  for (const cmd of COMMANDS) {
    for (const reasonCode of [0x00, 0x10, 0x80, 0x87, 0x92, 0x97]) {
      const ack = acknowledgement(capabilitiesFor(5)!, cmd, 4660, reasonCode)
      const bytes = encodeAcknowledgement(ack)
      assert.equal(bytes, mqttPacket.generate(ack, { protocolVersion: 5 }), `${cmd} 0x${reasonCode.toString(16)}`)
      assert.is(bytes!.length, reasonCode === 0 ? 4 : 6)
    }
  }
})

test('an acknowledgement with properties is left to mqtt-packet', () => {
  assert.is(encodeAcknowledgement({ cmd: 'puback', messageId: 1, reasonCode: 0x87, properties: { reasonString: 'no' } }), undefined)
})

test('MQTT 3.1 and 3.1.1 CONNACK: session present and every return code, as mqtt-packet writes them', () => {
  for (const level of [3, 4] as const) {
    for (const sessionPresent of [false, true]) {
      for (const returnCode of [0, 1, 2, 3, 4, 5]) {
        const connack = { cmd: 'connack', sessionPresent, returnCode } as const
        assert.equal(encodeV3Connack(connack, level), mqttPacket.generate(connack, { protocolVersion: level }), `level ${level}, session present ${sessionPresent}, code ${returnCode}`)
      }
    }
  }
})

test('an MQTT 5 CONNACK is left to mqtt-packet', () => {
  assert.is(encodeV3Connack({ cmd: 'connack', sessionPresent: false, reasonCode: 0 }, 5), undefined)
})

test.run()
