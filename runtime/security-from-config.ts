import type { Authenticator } from '../actors/connection/authenticator.js'
import type { Authorizer } from '../actors/connection/authorizer.js'
import { ReasonCode } from '../actors/connection/protocol/reason-codes.js'
import { PasswordFileAuthenticator } from './auth/password-file-authenticator.js'
import { AclAuthorizer } from './authorization/acl-authorizer.js'
import type { BrokerConfig } from './config/options.js'

/**
 * Who may connect, from the configuration: the users of a Mosquitto password file (anonymous
 * clients refused unless allow-anonymous says otherwise), everyone, or, with allow-anonymous
 * false and no password file, nobody but clients of an MQTT 5 authentication method (as
 * Mosquitto refuses every client in that case). A client named by its verified certificate
 * (useIdentityAsUsername) gets in without a password. Undefined means "let everyone in".
 * Throws PasswordFileError for a file it cannot read.
 */
export async function authenticatorFromConfig (config: BrokerConfig): Promise<Authenticator | undefined> {
  if (config.passwordFile !== undefined) {
    return trustingCertificates(await PasswordFileAuthenticator.fromFile(config.passwordFile, { allowAnonymous: config.allowAnonymous ?? false }))
  }
  if (config.allowAnonymous === false) return trustingCertificates(refuseEveryone)
  return undefined
}

const refuseEveryone: Authenticator = {
  authenticate: async () => ({ allowed: false, reasonCode: ReasonCode.NotAuthorized })
}

/**
 * `inner`, except that a client named by its verified certificate (useIdentityAsUsername) is
 * let in without a password, as Mosquitto's use_identity_as_username does not consult the
 * password file: the certificate is the login. Its name still goes through the ACL.
 */
function trustingCertificates (inner: Authenticator): Authenticator {
  return {
    authenticate: async request => request.certifiedIdentity !== undefined ? { allowed: true } : await inner.authenticate(request)
  }
}

/**
 * What each client may publish and receive, from an acl_file or the `acl` rules (not both).
 * Undefined means everything is allowed. Throws AclError for a file it cannot read.
 */
export async function authorizerFromConfig (config: BrokerConfig): Promise<Authorizer | undefined> {
  if (config.aclFile !== undefined && config.acl !== undefined) {
    throw new Error('both acl-file and acl are set: give the rules in one of them')
  }
  if (config.aclFile !== undefined) return await AclAuthorizer.fromFile(config.aclFile)
  if (config.acl !== undefined) return new AclAuthorizer(config.acl)
  return undefined
}
