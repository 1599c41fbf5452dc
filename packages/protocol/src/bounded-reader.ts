/**
 * A strict reader over one message's bytes. Unlike lib0's decoder it never
 * reads past the end (lib0's `readUint8` returns `undefined` there), rejects
 * varints past 2^53, and counts the bytes a declared length needs against
 * what is left, so a length field can never make a caller loop or allocate
 * more than the message itself could hold.
 */

/** Thrown by `BoundedReader` for any structural problem; carries a short reason. */
export class DecodeError extends Error {
  override readonly name = 'DecodeError'
}

const utf8 = new TextDecoder('utf-8', { fatal: true })

/** A cursor over a byte array that validates as it reads. */
export class BoundedReader {
  private pos = 0

  constructor(private readonly bytes: Uint8Array) {}

  /** Bytes not read yet. */
  get remaining(): number {
    return this.bytes.length - this.pos
  }

  /** Current offset, for error messages. */
  get offset(): number {
    return this.pos
  }

  readUint8(): number {
    if (this.pos >= this.bytes.length) throw new DecodeError(`truncated at byte ${this.pos}`)
    return this.bytes[this.pos++] as number
  }

  /** An unsigned LEB128 varint, at most 2^53 - 1. */
  readVarUint(): number {
    let value = 0
    let multiplier = 1
    for (;;) {
      const byte = this.readUint8()
      value += (byte & 0x7f) * multiplier
      if (value > Number.MAX_SAFE_INTEGER)
        throw new DecodeError(`varint overflow at byte ${this.pos}`)
      if (byte < 0x80) return value
      multiplier *= 128
    }
  }

  /** lib0's signed varint: sign in bit 6 of the first byte. */
  readVarInt(): number {
    const first = this.readUint8()
    let value = first & 0x3f
    let multiplier = 64
    const isNegative = (first & 0x40) > 0
    if (first >= 0x80) {
      for (;;) {
        const byte = this.readUint8()
        value += (byte & 0x7f) * multiplier
        if (value > Number.MAX_SAFE_INTEGER)
          throw new DecodeError(`varint overflow at byte ${this.pos}`)
        if (byte < 0x80) break
        multiplier *= 128
      }
    }
    return isNegative ? -value : value
  }

  /** A count of items that each take at least `minBytesEach` bytes. */
  readCount(minBytesEach = 1): number {
    const count = this.readVarUint()
    if (count * minBytesEach > this.remaining) {
      throw new DecodeError(`count ${count} exceeds the ${this.remaining} bytes left`)
    }
    return count
  }

  /** A length-prefixed byte array, returned as a copy. */
  readVarBytes(): Uint8Array {
    const length = this.readVarUint()
    return this.readBytes(length)
  }

  /** `length` raw bytes, returned as a copy. */
  readBytes(length: number): Uint8Array {
    if (length > this.remaining) {
      throw new DecodeError(`length ${length} exceeds the ${this.remaining} bytes left`)
    }
    const slice = this.bytes.slice(this.pos, this.pos + length)
    this.pos += length
    return slice
  }

  /** Skips `length` bytes. */
  skip(length: number): void {
    if (length > this.remaining) {
      throw new DecodeError(`length ${length} exceeds the ${this.remaining} bytes left`)
    }
    this.pos += length
  }

  /** A length-prefixed UTF-8 string; invalid UTF-8 is an error. */
  readVarString(): string {
    const length = this.readVarUint()
    if (length > this.remaining) {
      throw new DecodeError(`string length ${length} exceeds the ${this.remaining} bytes left`)
    }
    const view = this.bytes.subarray(this.pos, this.pos + length)
    this.pos += length
    try {
      return utf8.decode(view)
    } catch {
      throw new DecodeError(`invalid UTF-8 in string at byte ${this.pos - length}`)
    }
  }

  /** Throws unless every byte has been read. */
  expectEnd(what: string): void {
    if (this.remaining !== 0) {
      throw new DecodeError(`${this.remaining} trailing bytes after ${what}`)
    }
  }
}
