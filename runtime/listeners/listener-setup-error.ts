/**
 * A listener the broker cannot open as configured: a certificate file it cannot read, a key
 * that does not match its certificate, a port already taken. The message names the listener
 * and says what to change.
 */
export class ListenerSetupError extends Error {
  override readonly name = 'ListenerSetupError'

  constructor (
    /** Which listener, as the configuration made it: `tls listener (--tls-port)`, `listeners[1] (wss)`. */
    readonly listener: string,
    readonly detail: string,
    /** Whether its configuration is wrong (a file, a key), or binding failed (a port taken). */
    readonly stage: 'configuration' | 'bind',
    /** The system error code behind it, such as EADDRINUSE or ENOENT, when there is one. */
    readonly code?: string
  ) {
    super(`${listener}: ${detail}`)
  }
}
