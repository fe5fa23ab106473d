import { execFileSync } from 'node:child_process'

/**
 * An argon2id hash of `secret` made by libargon2 itself (Debian's python3-argon2), in the
 * encoded form Mosquitto's password files hold: what another implementation wrote, not ours.
 */
export function libargon2Hash (secret: string, memoryKiB = 19456, passes = 2, lanes = 1): string {
  const script = 'import sys; from argon2 import PasswordHasher; print(PasswordHasher(time_cost=int(sys.argv[2]), memory_cost=int(sys.argv[3]), parallelism=int(sys.argv[4])).hash(sys.argv[1]))'
  return execFileSync('/usr/bin/python3', ['-c', script, secret, String(passes), String(memoryKiB), String(lanes)], { encoding: 'utf8' }).trim()
}
