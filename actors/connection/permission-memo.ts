import type { Permission } from './authorizer.js'

/**
 * The permissions decided while a packet was held (AwaitingPermission), by key, so that when
 * its handler runs again it gets them at once instead of asking (and maybe waiting) again.
 * Cleared once the packet is handled: the next packet asks afresh.
 */
export class PermissionMemo {
  private readonly decided = new Map<string, boolean>()

  /** `ask()`'s answer, or the one remembered under `key`; an answer that comes later is remembered. */
  permission (key: string, ask: () => Permission): Permission {
    const known = this.decided.get(key)
    if (known !== undefined) return known
    const answer = ask()
    if (typeof answer === 'boolean') return answer
    return answer.then(allowed => {
      this.decided.set(key, allowed)
      return allowed
    })
  }

  /** Forgets everything: the packet the decisions were for is handled. */
  clear (): void {
    if (this.decided.size > 0) this.decided.clear()
  }
}
