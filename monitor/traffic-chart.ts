import type { TrafficSample } from '../runtime/metrics/traffic-history.js'

/** A chart's drawing area, in SVG user units. */
export const CHART_WIDTH = 600
export const CHART_HEIGHT = 120

export interface ChartSeries {
  readonly key: keyof Omit<TrafficSample, 'at'>
  readonly label: string
  /** A CSS class that gives the line its colour. */
  readonly className: string
}

/** What a chart needs to be drawn: an SVG path per series, and the top of its scale. */
export interface Chart {
  readonly paths: ReadonlyArray<ChartSeries & { readonly d: string }>
  readonly max: number
  readonly seconds: number
}

/**
 * Lines of traffic over time, drawn on the server as SVG path data, so the page needs no chart
 * library and no script to show them. The newest sample is at the right edge; the scale starts
 * at zero and ends at the largest value shown (at least 1).
 */
export function trafficChart (samples: readonly TrafficSample[], series: readonly ChartSeries[]): Chart {
  let max = 1
  for (const sample of samples) for (const { key } of series) max = Math.max(max, sample[key])
  const step = samples.length > 1 ? CHART_WIDTH / (samples.length - 1) : CHART_WIDTH
  const paths = series.map(line => {
    const points = samples.map((sample, index) => `${(index * step).toFixed(1)},${(CHART_HEIGHT - (sample[line.key] / max) * CHART_HEIGHT).toFixed(1)}`)
    return { ...line, d: points.length === 0 ? '' : `M${points.join('L')}` }
  })
  return { paths, max, seconds: samples.length }
}
