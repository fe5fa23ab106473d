import { get, type ClientRequest } from 'node:http'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Companion } from '../brokers.js'

/** How often the viewer reloads the dashboard, far more often than anyone would. */
const PAGE_INTERVAL_MS = 2000
/**
 * The dashboard only, as the issue's measure says. The topic explorer would switch the
 * router's topic watch on, a cost of its own: docs/benchmarks.md gives its profile.
 */
const PAGES = ['/']
const OPEN_TIMEOUT_MS = 10_000

/**
 * Someone with Troupe's monitor open on the dashboard: it follows the dashboard's live stream
 * (/events, one update a second, the charts redrawn every five) and reloads the page every two
 * seconds.
 */
export class DashboardViewer implements Companion {
  private pages = 0
  private updates = 0
  private failures = 0
  private readonly timer: NodeJS.Timeout

  private constructor (private readonly base: string, private readonly stream: ClientRequest) {
    this.timer = setInterval(() => this.fetchPages(), PAGE_INTERVAL_MS)
    this.fetchPages()
  }

  /** Opens the dashboard's live stream, waiting for the monitor to listen (it starts just after the broker). */
  static async open (port: number): Promise<DashboardViewer> {
    const base = `http://127.0.0.1:${port}`
    const deadline = Date.now() + OPEN_TIMEOUT_MS
    for (;;) {
      try {
        return await DashboardViewer.tryOpen(base)
      } catch (error) {
        if (Date.now() > deadline) throw new Error(`the monitor on port ${port} did not answer within ${OPEN_TIMEOUT_MS} ms: ${(error as Error).message}`)
        await sleep(100)
      }
    }
  }

  private static async tryOpen (base: string): Promise<DashboardViewer> {
    let viewer: DashboardViewer | undefined
    const stream = get(`${base}/events`, response => {
      response.on('data', (chunk: Buffer) => { if (viewer !== undefined) viewer.updates += chunk.toString().split('\n\n').length - 1 })
    })
    await new Promise<void>((resolve, reject) => {
      stream.once('response', response => response.statusCode === 200 ? resolve() : reject(new Error(`the monitor's /events answered ${String(response.statusCode)}`)))
      stream.once('error', reject)
    })
    viewer = new DashboardViewer(base, stream)
    return viewer
  }

  async stop (): Promise<string> {
    clearInterval(this.timer)
    this.stream.destroy()
    return `monitor viewer: ${this.updates} live updates, ${this.pages} pages${this.failures > 0 ? `, ${this.failures} failed` : ''}`
  }

  private fetchPages (): void {
    for (const path of PAGES) {
      get(`${this.base}${path}`, response => {
        response.resume()
        response.once('end', () => { if (response.statusCode === 200) this.pages++; else this.failures++ })
      }).once('error', () => { this.failures++ })
    }
  }
}
