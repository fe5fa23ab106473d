import { existsSync } from 'node:fs'
import { chromium, type Browser, type Page } from 'playwright-core'

/**
 * A real headless Chromium for tests, Debian's (`apt-get install chromium`, in .ci/run), driven
 * by playwright-core, which brings no browser of its own. Every browser launched here is closed
 * by `closeBrowsers()` in an after-hook; should a test file crash first, playwright kills the
 * browser's process group when this process exits.
 */

/** Where Debian installs Chromium. */
export const CHROMIUM_PATH = '/usr/bin/chromium'

export interface ChromiumOptions {
  /**
   * Accept any server certificate, for pages and WebSockets alike: the tests' certificates
   * come from a throwaway CA that Chromium's trust store does not know.
   */
  readonly ignoreCertificateErrors?: boolean
}

const launched = new Set<Browser>()

/** Launches headless Chromium; close it with `closeBrowsers()`. */
export async function launchChromium (options: ChromiumOptions = {}): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) throw new Error(`no Chromium at ${CHROMIUM_PATH}: install Debian's package (apt-get install chromium), as .ci/run does`)
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    timeout: 30_000,
    args: [
      // CI runs as root, where Chromium's sandbox cannot start.
      '--no-sandbox',
      ...(options.ignoreCertificateErrors === true ? ['--ignore-certificate-errors'] : [])
    ]
  })
  launched.add(browser)
  browser.once('disconnected', () => launched.delete(browser))
  return browser
}

/** A new page in its own context, whose console errors and page errors are kept for failure messages. */
export async function openPage (browser: Browser): Promise<{ page: Page, errors: string[] }> {
  const context = await browser.newContext()
  const page = await context.newPage()
  const errors: string[] = []
  page.on('console', message => { if (message.type() === 'error') errors.push(`console: ${message.text()}`) })
  page.on('pageerror', error => errors.push(`page error: ${error.message}`))
  return { page, errors }
}

/** Closes every browser launchChromium started: for after-hooks. */
export async function closeBrowsers (): Promise<void> {
  await Promise.all([...launched].map(async browser => await browser.close().catch(() => undefined)))
  launched.clear()
}
