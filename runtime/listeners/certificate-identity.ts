import type { PeerCertificate } from 'node:tls'
import type { IdentityField } from '../config/listener-config.js'

/** How each SAN kind is written in Node's `subjectaltname` string. */
const SAN_PREFIX: Readonly<Record<Exclude<IdentityField, 'cn'>, string>> = { dns: 'DNS', email: 'email', uri: 'URI' }

/**
 * The name a client certificate gives in `field`: its subject CN, or its first SAN of that
 * kind; undefined when it has none.
 */
export function certificateIdentity (certificate: PeerCertificate, field: IdentityField): string | undefined {
  if (field === 'cn') {
    // A subject with several CNs comes as an array; the first is the conventional one.
    const cn: unknown = certificate.subject?.CN
    const first: unknown = Array.isArray(cn) ? cn[0] : cn
    return typeof first === 'string' && first.length > 0 ? first : undefined
  }
  const prefix = SAN_PREFIX[field]
  return subjectAltNames(certificate.subjectaltname ?? '').find(name => name.kind === prefix)?.value
}

/**
 * Splits Node's `subjectaltname` ("DNS:a.example, email:b@example, URI:spiffe://c"). Node
 * writes a value that holds a comma or a quote as a JSON string, so those are decoded.
 */
function subjectAltNames (text: string): Array<{ kind: string, value: string }> {
  const names: Array<{ kind: string, value: string }> = []
  const entry = /([^:,]+):("(?:[^"\\]|\\.)*"|[^,]*)(?:, |$)/y
  for (let match = entry.exec(text); match !== null && match[0].length > 0; match = entry.exec(text)) {
    const raw = match[2]!
    names.push({ kind: match[1]!.trim(), value: raw.startsWith('"') ? JSON.parse(raw) as string : raw })
  }
  return names
}
