import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { connectionMachine } from '../../actors/connection/connection.machine.js'
import { machineChart, type ChartableStateNode } from '../../monitor/machine-chart.js'
import { activeStateIds } from '../../runtime/machine-inspector.js'

/** The inspector's chart of the connection machine, and the state ids it lights. */

const test = suite('machine chart')
const chart = machineChart(connectionMachine.root as unknown as ChartableStateNode)
const boxOf = (id: string): NonNullable<ReturnType<typeof chart.boxes.find>> => {
  const box = chart.boxes.find(candidate => candidate.id === id)
  if (box === undefined) throw new Error(`no box for ${id}`)
  return box
}

test('every state is a box; a compound state holds its children inside it', () => {
  const parent = boxOf('connection.connected')
  assert.ok(parent.compound)
  for (const id of ['connection.connected.serving', 'connection.connected.awaitingPermission']) {
    const child = boxOf(id)
    assert.ok(child.x > parent.x && child.x + child.width < parent.x + parent.width, `${id} inside horizontally`)
    assert.ok(child.y > parent.y && child.y + child.height < parent.y + parent.height, `${id} inside vertically`)
  }
  assert.is(chart.boxes.length, 6)
})

test('every box and label lies within the drawing, and no two top-level boxes overlap', () => {
  for (const box of chart.boxes) assert.ok(box.x >= 0 && box.y >= 0 && box.x + box.width <= chart.width && box.y + box.height <= chart.height, box.id)
  for (const edge of chart.edges) assert.ok(edge.labelX >= 0 && edge.labelY >= 0 && edge.labelX <= chart.width && edge.labelY <= chart.height, edge.label)
  const top = chart.boxes.filter(box => box.id.split('.').length === 2).sort((a, b) => a.x - b.x)
  for (let i = 1; i < top.length; i++) assert.ok(top[i]!.x >= top[i - 1]!.x + top[i - 1]!.width, `${top[i]!.id} right of ${top[i - 1]!.id}`)
})

test('transitions between the same two states share one labelled curve; self-handled events are listed in the box', () => {
  const labels = chart.edges.map(edge => edge.label)
  assert.ok(labels.some(label => label.startsWith('connect.accepted')), 'awaitingConnect -> connected')
  assert.ok(labels.some(label => label === 'packets.held'), 'serving -> awaitingPermission')
  assert.ok(labels.some(label => label.includes('+')), 'the many ways to closed are summed up')
  assert.equal(boxOf('connection.connected.serving').handles, ['packets.received'])
  assert.equal(boxOf('connection.closed').handles, [])
})

test('the state ids a value lights: a nested state lights its parent too', () => {
  assert.equal(activeStateIds('connection', { connected: 'serving' }), ['connection.connected', 'connection.connected.serving'])
  assert.equal(activeStateIds('connection', 'closed'), ['connection.closed'])
})

test.run()
