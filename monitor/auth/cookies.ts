/** The monitor's one cookie: the sign-in token. */
export const SESSION_COOKIE = 'troupe_session'

/** The value of cookie `name` in a Cookie header. */
export function cookieValue (header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined
  for (const part of header.split(';')) {
    const separator = part.indexOf('=')
    if (separator < 0) continue
    if (part.slice(0, separator).trim() === name) return decodeURIComponent(part.slice(separator + 1).trim())
  }
  return undefined
}

/**
 * The Set-Cookie of the sign-in token: HttpOnly (no script reads it), SameSite=Strict (no
 * other site's page sends it along), Path=/; Secure when the monitor is served over HTTPS.
 * `maxAgeSeconds` 0 removes it.
 */
export function sessionCookie (token: string, options: { readonly secure: boolean, readonly maxAgeSeconds?: number }): string {
  const parts = [`${SESSION_COOKIE}=${encodeURIComponent(token)}`, 'Path=/', 'HttpOnly', 'SameSite=Strict']
  if (options.maxAgeSeconds !== undefined) parts.push(`Max-Age=${options.maxAgeSeconds}`)
  if (options.secure) parts.push('Secure')
  return parts.join('; ')
}
