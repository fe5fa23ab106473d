import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { Logger } from 'pino'
import type { AuthProviderEntry } from '../../config/auth-providers-option.js'
import type { AuthProvider } from './auth-provider.js'
import { HttpAuthProvider } from './http-auth-provider.js'
import { providerFailureLog } from './provider-failure-log.js'
import { ProviderLink } from './provider-link.js'

/** An auth provider module that cannot be loaded, or exports nothing a provider has. */
export class AuthProviderError extends Error {
  override readonly name = 'AuthProviderError'
}

const CHECKS = ['authenticate', 'authorizePublish', 'authorizeSubscribe'] as const

/**
 * The configured providers, in order, ready to be asked. Modules are imported now, so that a
 * wrong path or a module without any check stops the start (AuthProviderError) rather than
 * the first client. A relative module path is taken from the working directory.
 */
export async function loadAuthProviders (entries: readonly AuthProviderEntry[], log: Logger): Promise<ProviderLink[]> {
  const onFailure = providerFailureLog(log)
  const links: ProviderLink[] = []
  for (const [index, entry] of entries.entries()) {
    const name = entry.type === 'module' ? entry.path : entry.url
    const provider = entry.type === 'module'
      ? await importProvider(entry.path, `auth-providers[${index}]`)
      : new HttpAuthProvider(entry.url, entry.timeoutMs, entry.headers)
    links.push(new ProviderLink(provider, { name, timeoutMs: entry.timeoutMs, cacheSeconds: entry.cacheSeconds }, onFailure))
    log.info({ provider: name, type: entry.type, checks: CHECKS.filter(check => typeof provider[check] === 'function'), timeoutMs: entry.timeoutMs, cacheSeconds: entry.cacheSeconds }, 'auth provider loaded')
  }
  return links
}

async function importProvider (path: string, label: string): Promise<AuthProvider> {
  const url = pathToFileURL(resolve(path)).href
  let exports: Record<string, unknown>
  try {
    exports = await importModule(url, path)
  } catch (error) {
    throw new AuthProviderError(`${label}: cannot load the auth provider module ${path}: ${(error as Error).message}`)
  }
  // Named exports, or (a CommonJS module, say) an object as the default export.
  const fromDefault = CHECKS.every(check => exports[check] === undefined) && typeof exports.default === 'object' && exports.default !== null
  const candidate = fromDefault ? exports.default as Record<string, unknown> : exports
  for (const key of [...CHECKS, 'close']) {
    if (candidate[key] !== undefined && typeof candidate[key] !== 'function') throw new AuthProviderError(`${label}: ${path} exports ${key}, but not as a function`)
  }
  if (CHECKS.every(check => candidate[check] === undefined)) {
    throw new AuthProviderError(`${label}: ${path} exports none of ${CHECKS.join(', ')}: export at least one (see "Auth providers" in the README)`)
  }
  return candidate as AuthProvider
}

/**
 * Imports a module; a TypeScript one through tsx when this Node cannot strip types itself
 * (Node 20; Node 22.18 and later load .ts files natively).
 */
async function importModule (url: string, path: string): Promise<Record<string, unknown>> {
  try {
    return await import(url) as Record<string, unknown>
  } catch (error) {
    if ((error as { code?: string }).code !== 'ERR_UNKNOWN_FILE_EXTENSION' || !/\.[cm]?ts$/.test(path)) throw error
  }
  let tsx: { tsImport: (specifier: string, parent: string) => Promise<unknown> }
  try {
    tsx = await import('tsx/esm/api')
  } catch {
    throw new Error(`this Node (${process.version}) cannot load TypeScript: compile the module to JavaScript, install tsx beside the broker, or use Node 22.18 or later`)
  }
  return await tsx.tsImport(url, import.meta.url) as Record<string, unknown>
}
