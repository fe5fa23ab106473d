/** What the chart needs of an xstate machine's state node (StateNode has these). */
export interface ChartableStateNode {
  readonly key: string
  readonly id: string
  readonly states: Readonly<Record<string, ChartableStateNode>>
  readonly transitions: ReadonlyMap<string, ReadonlyArray<{ readonly target?: ReadonlyArray<{ readonly id: string }> }>>
}

export interface ChartBox {
  /** The state node's id, e.g. `connection.connected.serving`: what the live view highlights. */
  readonly id: string
  readonly label: string
  readonly x: number
  readonly y: number
  readonly width: number
  readonly height: number
  readonly compound: boolean
  /** Events handled without leaving the state. */
  readonly handles: readonly string[]
}

export interface ChartEdge {
  readonly d: string
  readonly label: string
  readonly labelX: number
  readonly labelY: number
}

export interface MachineChart {
  readonly width: number
  readonly height: number
  readonly boxes: readonly ChartBox[]
  readonly edges: readonly ChartEdge[]
}

const BOX_WIDTH = 210
const GAP = 90
const LEAF_HEIGHT = 58
const CHILD_GAP = 16
const HEADER = 30
/** Height of one level of arcs above or below the boxes. */
const ARC_STEP = 24

/**
 * A state machine drawn as a chart, laid out on the server: the top-level states left to right
 * in their definition order, a compound state holding its children stacked inside it, and the
 * transitions as labelled curves (above the boxes going right, below going left; between
 * children of one state, beside them). Transitions between the same two states share one
 * curve, their events listed on it.
 */
export function machineChart (root: ChartableStateNode): MachineChart {
  const grouped = new Map<string, { from: string, to: string, events: string[] }>()
  const collect = (state: ChartableStateNode): void => {
    for (const [event, definitions] of state.transitions) {
      for (const definition of definitions) {
        for (const target of definition.target ?? []) {
          const key = `${state.id}>${target.id}`
          const entry = grouped.get(key) ?? { from: state.id, to: target.id, events: [] }
          if (!entry.events.includes(eventName(event))) entry.events.push(eventName(event))
          grouped.set(key, entry)
        }
      }
    }
    for (const child of Object.values(state.states)) collect(child)
  }
  const topLevel = Object.values(root.states)
  for (const state of topLevel) collect(state)
  // Columns first (which top-level state each node is drawn in), to sort the arcs by span.
  const column = new Map<string, number>()
  topLevel.forEach((state, index) => {
    column.set(state.id, index)
    for (const child of Object.values(state.states)) column.set(child.id, index)
  })
  const transitions = [...grouped.values()]
  const span = (edge: { from: string, to: string }): number => (column.get(edge.to) ?? 0) - (column.get(edge.from) ?? 0)
  // Shorter arcs lower, so that a longer one passes over them and no two labels meet.
  const forward = transitions.filter(edge => span(edge) > 0).sort((a, b) => span(a) - span(b))
  const backward = transitions.filter(edge => span(edge) < 0).sort((a, b) => span(b) - span(a))
  const inner = transitions.filter(edge => span(edge) === 0)
  const top = 40 + forward.length * ARC_STEP * 1.5

  const boxes = new Map<string, ChartBox>()
  let x = 20
  let height = 0
  for (const state of topLevel) {
    const children = Object.values(state.states)
    const boxHeight = children.length === 0 ? LEAF_HEIGHT : HEADER + children.length * (LEAF_HEIGHT + CHILD_GAP)
    boxes.set(state.id, box(state, x, top, BOX_WIDTH, boxHeight, children.length > 0))
    children.forEach((child, index) => {
      boxes.set(child.id, box(child, x + 15, top + HEADER + index * (LEAF_HEIGHT + CHILD_GAP), BOX_WIDTH - 30, LEAF_HEIGHT, false))
    })
    height = Math.max(height, boxHeight)
    x += BOX_WIDTH + GAP
  }
  const bottom = top + height
  const edges: ChartEdge[] = []
  const labelOf = (events: readonly string[]): string => events.length <= 2 ? events.join(', ') : `${events.slice(0, 2).join(', ')} +${events.length - 2}`
  forward.forEach(({ from, to, events }, level) => {
    const source = boxes.get(from)!
    const target = boxes.get(to)!
    const lift = ARC_STEP * (level + 1)
    const startX = source.x + source.width * 0.75
    const endX = target.x + target.width * 0.25
    const startY = source.y === top ? top : source.y
    // A cubic with both control points 2h above the ends peaks 1.5h above them.
    edges.push({ d: `M${startX},${startY} C${startX},${top - lift * 2} ${endX},${top - lift * 2} ${endX},${target.y}`, label: labelOf(events), labelX: (startX + endX) / 2, labelY: top - lift * 1.5 - 4 })
  })
  backward.forEach(({ from, to, events }, level) => {
    const source = boxes.get(from)!
    const target = boxes.get(to)!
    const drop = ARC_STEP * (level + 1)
    const startX = source.x + source.width * 0.25
    const endX = target.x + target.width * 0.75
    edges.push({ d: `M${startX},${source.y + source.height} C${startX},${bottom + drop * 2} ${endX},${bottom + drop * 2} ${endX},${target.y + target.height}`, label: labelOf(events), labelX: (startX + endX) / 2, labelY: bottom + drop * 1.5 + 12 })
  })
  for (const { from, to, events } of inner) {
    const source = boxes.get(from)!
    const target = boxes.get(to)!
    const startY = source.y + source.height / 2
    const endY = target.y + target.height / 2
    // Between children of one state: going down on its right, going up on its left.
    const right = endY > startY
    const side = right ? source.x + source.width : source.x
    const bulge = right ? side + 34 : side - 34
    edges.push({ d: `M${side},${startY} C${bulge},${startY} ${bulge},${endY} ${side},${endY}`, label: labelOf(events), labelX: right ? bulge + 30 : bulge - 30, labelY: (startY + endY) / 2 + 4 })
  }
  return { width: x - GAP + 60, height: bottom + 40 + backward.length * ARC_STEP * 1.5, boxes: [...boxes.values()], edges }
}

function box (state: ChartableStateNode, x: number, y: number, width: number, height: number, compound: boolean): ChartBox {
  const handles = [...state.transitions].filter(([, definitions]) => definitions.every(definition => definition.target === undefined || definition.target.length === 0)).map(([event]) => eventName(event))
  return { id: state.id, label: state.key, x, y, width, height, compound, handles }
}

/** xstate's generated event names for an invoked actor's ending, in words. */
function eventName (event: string): string {
  if (event.startsWith('xstate.done.actor.')) return 'done'
  if (event.startsWith('xstate.error.actor.')) return 'failed'
  return event
}
