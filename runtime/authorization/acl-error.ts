/**
 * Access rules the broker cannot start with. The message names where the rule is (file and
 * line, or configuration key and entry) and what is wrong with it.
 */
export class AclError extends Error {
  override readonly name = 'AclError'

  constructor (
    /** The ACL file's path, or the configuration key the rules came from. */
    readonly source: string,
    /** 1-based line of a file, 0-based index of a list entry; undefined for the whole source. */
    readonly position: { readonly line: number } | { readonly index: number } | undefined,
    readonly problem: string
  ) {
    super(`${source}${AclError.where(position)}: ${problem}`)
  }

  private static where (position: AclError['position']): string {
    if (position === undefined) return ''
    return 'line' in position ? `:${position.line}` : `[${position.index}]`
  }
}
