import type { Permission } from './authorizer.js'

/**
 * The permissions decided while a packet was held (AwaitingPermission), by key, so that when
 * its handler runs again it gets them at once instead of asking (and maybe waiting) again.
 * Cleared once the packet is handled: the next packet asks afresh.
 */
export class PermissionMemo {
  /** Made on the first decision to remember: most connections never have one. */
  private decided: Map<string, boolean> | undefined

  /**
   * `ask()`'s answer, or the one remembered for `action` on `subject` (a topic or filter); an
   * answer that comes later is remembered. The key is only built when something is or will be
   * remembered: most permissions are answered at once, once per PUBLISH.
   */
  permission (action: string, subject: string, ask: () => Permission): Permission {
    const known = this.decided?.get(`${action}\0${subject}`)
    if (known !== undefined) return known
    const answer = ask()
    if (typeof answer === 'boolean') return answer
    return answer.then(allowed => {
      (this.decided ??= new Map()).set(`${action}\0${subject}`, allowed)
      return allowed
    })
  }

  /** Forgets everything: the packet the decisions were for is handled. */
  clear (): void {
    this.decided = undefined
  }
}
