import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/**
 * The monitor's templates and static files live beside its sources in `monitor/`; the build
 * puts the code in `dist/monitor/`, two levels further down. Found from either.
 */
function monitorDirectory (): string {
  for (const candidate of ['./', '../../monitor/']) {
    const directory = fileURLToPath(new URL(candidate, import.meta.url))
    if (existsSync(`${directory}views/layout.eta`)) return directory
  }
  throw new Error(`the monitor's templates are missing: expected monitor/views/layout.eta near ${fileURLToPath(import.meta.url)}; reinstall Troupe`)
}

const directory = monitorDirectory()

export const VIEWS_DIRECTORY = `${directory}views`
export const STATIC_DIRECTORY = `${directory}static`
