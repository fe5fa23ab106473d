import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** Paths of a throwaway PKI in a temporary directory, made with the system's openssl. */
export interface TestCertificates {
  readonly dir: string
  /** The CA that signs the server's and the client's certificates. */
  readonly ca: string
  /** For 127.0.0.1 and localhost. */
  readonly serverCert: string
  readonly serverKey: string
  /** CN=alice, SANs email:alice@example.com, DNS:alice.devices.example, URI:spiffe://example/alice. */
  readonly clientCert: string
  readonly clientKey: string
  /** CN=mallory, from another CA the broker does not trust. */
  readonly strangerCert: string
  readonly strangerKey: string
  /** Signed by the CA, but with no CN and no SAN. */
  readonly namelessCert: string
  readonly namelessKey: string
  remove (): void
}

export const CLIENT_CN = 'alice'

/** Generates a CA, a server and client certificates (EC P-256, valid two days) into a new temporary directory. */
export function makeTestCertificates (): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), 'troupe-pki-'))
  const path = (name: string): string => join(dir, name)
  const openssl = (...args: string[]): void => {
    execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] })
  }
  const newKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']
  const authority = (name: string, cn: string): void => {
    openssl('req', '-x509', ...newKey, '-keyout', path(`${name}.key`), '-out', path(`${name}.pem`), '-days', '2', '-subj', `/CN=${cn}`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign')
  }
  const signed = (name: string, subject: string, extensions: string, by: string): void => {
    writeFileSync(path(`${name}.ext`), extensions)
    openssl('req', ...newKey, '-keyout', path(`${name}.key`), '-out', path(`${name}.csr`), '-subj', subject)
    openssl('x509', '-req', '-in', path(`${name}.csr`), '-CA', path(`${by}.pem`), '-CAkey', path(`${by}.key`), '-CAcreateserial',
      '-out', path(`${name}.pem`), '-days', '2', '-extfile', path(`${name}.ext`))
  }
  authority('ca', 'Troupe Test CA')
  authority('other-ca', 'Some Other CA')
  signed('server', '/CN=localhost', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n', 'ca')
  signed('client', `/CN=${CLIENT_CN}/O=Troupe Tests`, 'subjectAltName=email:alice@example.com,DNS:alice.devices.example,URI:spiffe://example/alice\nbasicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n', 'ca')
  signed('stranger', '/CN=mallory', 'basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n', 'other-ca')
  signed('nameless', '/O=Troupe Tests', 'basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n', 'ca')
  return {
    dir,
    ca: path('ca.pem'),
    serverCert: path('server.pem'),
    serverKey: path('server.key'),
    clientCert: path('client.pem'),
    clientKey: path('client.key'),
    strangerCert: path('stranger.pem'),
    strangerKey: path('stranger.key'),
    namelessCert: path('nameless.pem'),
    namelessKey: path('nameless.key'),
    remove: () => rmSync(dir, { recursive: true, force: true })
  }
}
