import { readFile } from 'node:fs/promises'
import { AclError } from './acl-error.js'
import { aclTopicProblem, isAclAccess, type AclAccess, type AclRule } from './acl-rule.js'

/**
 * Mosquitto's `acl_file` format, read as Mosquitto 2 reads it:
 *
 *   # a comment
 *   topic read public/#             (before any `user` line: for anonymous clients)
 *   user alice                      (the rules below, up to the next `user`, are alice's)
 *   topic readwrite alice/#
 *   topic deny alice/secret/#
 *   pattern write devices/%c/state  (every client, wherever it is written)
 *
 * `topic|pattern [read|write|readwrite|deny] <topic>`: without an access word the access is
 * readwrite and the rest of the line is the topic (so `topic read` alone is the topic "read",
 * as in Mosquitto), which may hold spaces. A user name is the rest of its line.
 *
 * Deviations, all toward refusing a file Mosquitto would half-apply: a line starting with
 * another word is an error (Mosquitto skips it, so a typo in `user` silently gave the next
 * rules to the previous user); a `#` after leading blanks is still a comment; tabs separate
 * words as spaces do.
 */

const SEPARATOR = /[ \t]+/

/** The rules of an ACL file's text; throws AclError naming `file` and the line of the first bad line. */
export function parseAclFile (text: string, file: string): AclRule[] {
  const rules: AclRule[] = []
  let user: string | undefined
  const lines = text.replace(/^\uFEFF/u, '').split('\n')
  for (let index = 0; index < lines.length; index++) {
    const fail = (problem: string): AclError => new AclError(file, { line: index + 1 }, problem)
    const line = lines[index]!.trim()
    if (line.length === 0 || line.startsWith('#')) continue
    const [keyword, rest] = splitWord(line)
    if (keyword === 'user') {
      if (rest.length === 0) throw fail('"user" needs a user name: user <name>')
      user = rest
      continue
    }
    if (keyword !== 'topic' && keyword !== 'pattern') {
      throw fail(`unknown keyword "${keyword}": a line is "user <name>", "topic [read|write|readwrite|deny] <topic>" or "pattern [read|write|readwrite|deny] <topic>"`)
    }
    if (rest.length === 0) throw fail(`"${keyword}" needs a topic: ${keyword} [read|write|readwrite|deny] <topic>`)
    const [first, afterFirst] = splitWord(rest)
    let access: AclAccess = 'readwrite'
    let topic = rest
    if (afterFirst.length > 0) {
      if (!isAclAccess(first)) throw fail(`unknown access "${first}": use read, write, readwrite or deny (a topic with spaces needs the access word before it)`)
      access = first
      topic = afterFirst
    }
    const problem = aclTopicProblem(topic)
    if (problem !== undefined) throw fail(problem)
    rules.push(keyword === 'topic' ? { kind: 'topic', user, access, topic } : { kind: 'pattern', access, topic })
  }
  return rules
}

/** Reads and parses the ACL file at `path`; AclError when it cannot be read or has a bad line. */
export async function readAclFile (path: string): Promise<AclRule[]> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    throw new AclError(path, undefined, `cannot read the ACL file: ${(error as Error).message}`)
  }
  return parseAclFile(text, path)
}

/** The first word of `text` and the rest, without the blanks between. */
function splitWord (text: string): [string, string] {
  const match = SEPARATOR.exec(text)
  if (match === null) return [text, '']
  return [text.slice(0, match.index), text.slice(match.index + match[0].length).trim()]
}
