import { readFileSync } from 'node:fs'
import { createSecureContext, type TLSSocket, type TlsOptions } from 'node:tls'
import type { TransportContext } from '../../actors/connection/client-stream.js'
import type { IdentityField } from '../config/listener-config.js'
import type { TlsFiles } from '../config/resolve-listeners.js'
import { certificateIdentity } from './certificate-identity.js'
import { ListenerSetupError } from './listener-setup-error.js'

/** A TLS listener's server options, with its files read and checked, and how it names clients. */
export interface TlsSettings {
  readonly serverOptions: TlsOptions
  readonly identityField: IdentityField | undefined
}

/**
 * Reads the certificate, key and CA of a tls or wss listener and checks that they make a
 * working TLS context, so that a bad file stops the broker at start and not at the first client.
 */
export function loadTlsSettings (files: TlsFiles, listener: string): TlsSettings {
  const read = (what: string, path: string): Buffer => {
    try {
      return readFileSync(path)
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      throw new ListenerSetupError(listener, `cannot read the ${what} file ${path} (${code ?? String(error)}): give the path of a readable PEM file`, 'configuration', code)
    }
  }
  const serverOptions: TlsOptions = {
    cert: read('certificate', files.cert),
    key: read('key', files.key),
    ...(files.ca === undefined ? {} : { ca: read('CA', files.ca) }),
    minVersion: files.minVersion,
    ...(files.ciphers === undefined ? {} : { ciphers: files.ciphers }),
    requestCert: files.requireCertificate,
    rejectUnauthorized: files.requireCertificate
  }
  try {
    createSecureContext(serverOptions)
  } catch (error) {
    throw new ListenerSetupError(listener, `its TLS settings do not work (${(error as Error).message}): check that the key belongs to the certificate, that both are PEM, and the ciphers list`, 'configuration')
  }
  return { serverOptions, identityField: files.identityField }
}

/**
 * What a TLS listener knows of a client once its handshake is done: the identity to use as
 * its username, or why it is turned away (a certificate without the configured name).
 */
export function identityOf (socket: TLSSocket, settings: TlsSettings): { readonly accepted: true, readonly transport: TransportContext } | { readonly accepted: false, readonly reason: string } {
  if (settings.identityField === undefined) return { accepted: true, transport: {} }
  const identity = certificateIdentity(socket.getPeerCertificate(), settings.identityField)
  return identity === undefined
    ? { accepted: false, reason: `its client certificate has no ${settings.identityField === 'cn' ? 'CN' : `${settings.identityField} SAN`} to use as username` }
    : { accepted: true, transport: { identity } }
}
