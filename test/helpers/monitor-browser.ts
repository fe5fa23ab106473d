import { mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { Browser, Page } from 'playwright-core'
import type { Test } from 'uvu'
import { closeBrowsers, launchChromium, openPage } from './chromium.js'

/** Where the monitor suites keep a screenshot of each page, for a person to look at. */
export const MONITOR_ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/monitor/', import.meta.url))

/** Generous: the machine is shared, and the live numbers come once a second. */
export const PAGE_TIMEOUT_MS = 15_000

export interface ChromiumSuiteContext {
  browser: Browser
  /** Console and page errors of every page a test opened, one list per page. */
  pageErrors: string[][]
}

/**
 * The hooks of a suite that drives the monitor in Chromium: one browser for the file, and
 * every browser context closed after each test before the suite's own after-each hooks run
 * (call this before registering them): an open live page holds an event stream.
 */
export function useChromium<C extends ChromiumSuiteContext> (test: Test<C>): void {
  test.before(async context => {
    mkdirSync(MONITOR_ARTIFACTS, { recursive: true })
    context.browser = await launchChromium()
  })
  test.after(async () => {
    await closeBrowsers()
  })
  test.before.each(context => {
    context.pageErrors = []
  })
  test.after.each(async context => {
    for (const browserContext of context.browser.contexts()) await browserContext.close()
  })
}

/** A fresh browser context (its own cookies) with one page, whose errors and failed loads are kept. */
export async function newMonitorPage (context: ChromiumSuiteContext): Promise<Page> {
  const { page, errors } = await openPage(context.browser)
  page.setDefaultTimeout(PAGE_TIMEOUT_MS)
  // Chromium's console line for a failed load names no URL: these do.
  page.on('response', response => { if (response.status() >= 400) errors.push(`${response.status()} ${new URL(response.url()).pathname}`) })
  context.pageErrors.push(errors)
  return page
}

/** What went wrong in the pages beside `expected` responses ('401 /login'): script errors, CSP refusals, failed loads. */
export function unexpectedErrors (context: ChromiumSuiteContext, ...expected: string[]): string[] {
  return context.pageErrors.flat().filter(error => !error.startsWith('console: Failed to load resource') && error !== '404 /favicon.ico' && !expected.includes(error))
}

export async function screenshot (page: Page, name: string): Promise<void> {
  await page.screenshot({ path: `${MONITOR_ARTIFACTS}${name}.png`, fullPage: true })
}
