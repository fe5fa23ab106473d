import { damaged } from './record-envelope.js'
import type { StoreError } from './store.js'

/**
 * Typed access to the fields of a decoded record header. JSON that parses but has the wrong
 * shape (a damaged or foreign record) becomes a StoreError naming the key, instead of a
 * TypeError somewhere in the broker long after start.
 */
export class HeaderFields {
  private readonly fields: Readonly<Record<string, unknown>>

  constructor (private readonly key: string, header: unknown, private readonly path = 'header') {
    if (typeof header !== 'object' || header === null || Array.isArray(header)) throw this.wrong(path, 'an object')
    this.fields = header as Readonly<Record<string, unknown>>
  }

  has (name: string): boolean {
    return this.fields[name] !== undefined
  }

  string (name: string): string {
    const value = this.fields[name]
    if (typeof value !== 'string') throw this.wrong(name, 'a string')
    return value
  }

  number (name: string): number {
    const value = this.fields[name]
    if (typeof value !== 'number' || !Number.isFinite(value)) throw this.wrong(name, 'a number')
    return value
  }

  boolean (name: string): boolean {
    const value = this.fields[name]
    if (typeof value !== 'boolean') throw this.wrong(name, 'true or false')
    return value
  }

  oneOf<T extends string | number> (name: string, allowed: readonly T[]): T {
    const value = this.fields[name]
    if (!allowed.includes(value as T)) throw this.wrong(name, `one of ${allowed.join(', ')}`)
    return value as T
  }

  object (name: string): HeaderFields {
    return new HeaderFields(this.key, this.fields[name], `${this.path}.${name}`)
  }

  array (name: string): readonly unknown[] {
    const value = this.fields[name]
    if (!Array.isArray(value)) throw this.wrong(name, 'a list')
    return value
  }

  numbers (name: string): readonly number[] {
    const list = this.array(name)
    if (!list.every(item => typeof item === 'number')) throw this.wrong(name, 'a list of numbers')
    return list as readonly number[]
  }

  /** A list of string pairs, such as user properties; their order is kept. */
  pairs (name: string): ReadonlyArray<readonly [string, string]> {
    const list = this.array(name)
    const isPair = (item: unknown): boolean => Array.isArray(item) && item.length === 2 && typeof item[0] === 'string' && typeof item[1] === 'string'
    if (!list.every(isPair)) throw this.wrong(name, 'a list of string pairs')
    return list as ReadonlyArray<readonly [string, string]>
  }

  /** Each element of a list of objects. */
  objects (name: string): HeaderFields[] {
    return this.array(name).map((item, index) => new HeaderFields(this.key, item, `${this.path}.${name}[${index}]`))
  }

  /** A blob the header refers to by index. */
  blob (name: string, blobs: readonly Buffer[]): Buffer {
    const index = this.number(name)
    const blob = blobs[index]
    if (blob === undefined) throw this.wrong(name, `the index of one of its ${blobs.length} blobs`)
    return blob
  }

  private wrong (name: string, expected: string): StoreError {
    const where = name === this.path ? name : `${this.path}.${name}`
    return damaged(this.key, `${where} should be ${expected}`)
  }
}
