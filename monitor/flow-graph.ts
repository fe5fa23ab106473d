import type { FlowView } from './topic-views.js'

export interface FlowNode {
  readonly kind: 'publisher' | 'topic' | 'subscriber'
  readonly label: string
  readonly x: number
  readonly y: number
  readonly width: number
  /** The label as drawn: cut to fit the node (the full one is its tooltip). */
  readonly shortLabel: string
  /** Where a click on it goes. */
  readonly href: string
  /** Topics: messages per second. */
  readonly rate?: number
}

export interface FlowEdge {
  /** SVG path data: a curve from one column to the next. */
  readonly d: string
  readonly width: number
}

export interface FlowGraph {
  readonly width: number
  readonly height: number
  readonly nodes: readonly FlowNode[]
  readonly edges: readonly FlowEdge[]
}

const WIDTH = 1100
/** Room for a 24 px node and, under a topic's node, its rate (12 px lower), clear of the next node. */
const ROW = 48
const TOP = 24
const COLUMNS = { publisher: 150, topic: 550, subscriber: 950 } as const
/** Topic names are the long ones: their column's nodes are wider. */
const NODE_WIDTH = { publisher: 150, topic: 270, subscriber: 150 } as const
/** About how wide a character of the node font is, to cut labels to their node. */
const CHARACTER_WIDTH = 7

/**
 * The flow of a filter drawn as three columns, publishers -> topics -> subscribers, laid out
 * on the server: each node one row of its column, each edge a curve whose width grows with the
 * share of the topic's messages it carries (publisher edges) or the topic's rate (subscriber
 * edges, every subscriber gets every message).
 */
export function flowGraph (flow: FlowView): FlowGraph {
  const publishers = unique(flow.publishers.map(edge => edge.clientId))
  const subscribers = unique(flow.subscribers.map(edge => edge.clientId))
  const rows = Math.max(publishers.length, flow.topics.length, subscribers.length, 1)
  const y = (index: number, count: number): number => TOP + (index + 0.5) * (rows * ROW) / count
  const position = new Map<string, { x: number, y: number, half: number }>()
  const nodes: FlowNode[] = []
  publishers.forEach((clientId, index) => {
    const at = { x: COLUMNS.publisher, y: y(index, publishers.length), half: NODE_WIDTH.publisher / 2 }
    position.set(`p:${clientId}`, at)
    nodes.push(node('publisher', clientId === '' ? '(the broker)' : clientId, at, clientId === '' ? '#' : `/connections/${encodeURIComponent(clientId)}`))
  })
  const topRate = Math.max(1, ...flow.topics.map(topic => topic.rate))
  flow.topics.forEach((topic, index) => {
    const at = { x: COLUMNS.topic, y: y(index, flow.topics.length), half: NODE_WIDTH.topic / 2 }
    position.set(`t:${topic.topic}`, at)
    nodes.push({ ...node('topic', topic.topic, at, `/topics?prefix=${encodeURIComponent(topic.topic)}`), rate: topic.rate })
  })
  subscribers.forEach((clientId, index) => {
    const at = { x: COLUMNS.subscriber, y: y(index, subscribers.length), half: NODE_WIDTH.subscriber / 2 }
    position.set(`s:${clientId}`, at)
    nodes.push(node('subscriber', clientId, at, `/connections/${encodeURIComponent(clientId)}`))
  })
  const counts = new Map(flow.topics.map(topic => [topic.topic, Math.max(1, topic.count)]))
  const rates = new Map(flow.topics.map(topic => [topic.topic, topic.rate]))
  const edges: FlowEdge[] = [
    ...flow.publishers.map(edge => curve(position.get(`p:${edge.clientId}`)!, position.get(`t:${edge.topic}`)!, 1 + 7 * edge.count / counts.get(edge.topic)!)),
    ...flow.subscribers.map(edge => curve(position.get(`t:${edge.topic}`)!, position.get(`s:${edge.clientId}`)!, 1 + 7 * (rates.get(edge.topic) ?? 0) / topRate))
  ]
  return { width: WIDTH, height: TOP * 2 + rows * ROW, nodes, edges }
}

function curve (from: { x: number, y: number, half: number }, to: { x: number, y: number, half: number }, width: number): FlowEdge {
  const middle = (from.x + to.x) / 2
  return { d: `M${from.x + from.half},${from.y.toFixed(1)} C${middle},${from.y.toFixed(1)} ${middle},${to.y.toFixed(1)} ${to.x - to.half},${to.y.toFixed(1)}`, width: Number(width.toFixed(1)) }
}

function node (kind: FlowNode['kind'], label: string, at: { x: number, y: number }, href: string): FlowNode {
  const width = NODE_WIDTH[kind]
  const fits = Math.floor((width - 16) / CHARACTER_WIDTH)
  return { kind, label, shortLabel: label.length > fits ? `${label.slice(0, fits - 1)}…` : label, x: at.x, y: at.y, width, href }
}

function unique (values: readonly string[]): string[] {
  return [...new Set(values)].sort()
}
