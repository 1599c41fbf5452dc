/**
 * Password hashing with argon2id (@node-rs/argon2's defaults: 19 MiB, two
 * passes, one lane — the OWASP minimum for argon2id).
 */
import { hash, verify } from '@node-rs/argon2'

/** Shortest password accepted, in characters. */
export const MIN_PASSWORD_LENGTH = 10
/** Longest password accepted, in characters; argon2 costs grow with input. */
export const MAX_PASSWORD_LENGTH = 256

/** Hashes a password (argon2id, random salt, PHC string). */
export const hashPassword = (password: string): Promise<string> => hash(password)

/** Whether `password` matches `passwordHash`; false for a malformed hash. */
export const verifyPassword = async (passwordHash: string, password: string): Promise<boolean> => {
  try {
    return await verify(passwordHash, password)
  } catch {
    // A malformed stored hash: treat as no match rather than a server error.
    return false
  }
}

/**
 * A hash of a random password, computed once. Signing in as an unknown user
 * verifies against it, so the answer takes as long as a wrong password.
 */
let dummyHash: Promise<string> | null = null
export const verifyAgainstDummy = async (password: string): Promise<false> => {
  dummyHash ??= hashPassword(crypto.randomUUID())
  await verifyPassword(await dummyHash, password)
  return false
}
