import { readPasswordFile } from '../../runtime/auth/password-file.js'
import { decoyLike, passwordMatches, type PasswordHash } from '../../runtime/auth/password-hash.js'

/** What a signed-in user may do: look (viewer), or also change things (admin). */
export type MonitorRole = 'viewer' | 'admin'

/**
 * The monitor's users: a Mosquitto password file (made with `troupe passwd`), and the names
 * among them who are admins; everyone else in the file may only look. An unknown user costs
 * the same check as a known one, so timing does not tell which names exist.
 */
export class MonitorUsers {
  private readonly decoy: PasswordHash

  constructor (private readonly hashes: ReadonlyMap<string, PasswordHash>, private readonly admins: ReadonlySet<string>) {
    this.decoy = decoyLike(hashes.values().next().value)
  }

  static async fromFile (file: string, admins: readonly string[]): Promise<MonitorUsers> {
    return new MonitorUsers(await readPasswordFile(file), new Set(admins))
  }

  get size (): number {
    return this.hashes.size
  }

  /** Admins named that are not in the file: a configuration mistake worth a warning. */
  unknownAdmins (): string[] {
    return [...this.admins].filter(name => !this.hashes.has(name))
  }

  /** The role of `username` when `password` is theirs, else undefined. */
  async verify (username: string, password: string): Promise<MonitorRole | undefined> {
    const expected = this.hashes.get(username)
    const matches = await passwordMatches(Buffer.from(password, 'utf8'), expected ?? this.decoy)
    if (!matches || expected === undefined) return undefined
    return this.admins.has(username) ? 'admin' : 'viewer'
  }
}
