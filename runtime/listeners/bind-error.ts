import type { ListenerSpec } from '../config/resolve-listeners.js'
import { ListenerSetupError } from './listener-setup-error.js'

/** Why `spec` could not bind, said so that the user knows which port to change. */
export function bindError (spec: ListenerSpec, error: unknown): ListenerSetupError {
  const code = (error as NodeJS.ErrnoException).code
  const detail = code === 'EADDRINUSE'
    ? `port ${spec.port} on ${spec.host} is already in use: stop the other process or choose another port`
    : code === 'EACCES'
      ? `not allowed to listen on port ${spec.port}: use a port above 1023 or run with the needed privilege`
      : code === 'EADDRNOTAVAIL'
        ? `${spec.host} is not an address of this machine: choose one it has, or 0.0.0.0 for all`
        : `cannot listen on ${spec.host}:${spec.port}: ${(error as Error).message}`
  return new ListenerSetupError(spec.label, detail, 'bind', code)
}
