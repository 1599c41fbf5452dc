/**
 * What every API route shares: the error body, input decoding with zod, and
 * the signed-in caller of a request.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import { z } from 'zod'
import type { AuthService, Caller } from '../auth/index.js'
import { COOKIE } from './api-dependencies.js'

/** The body of every error response: a short message and the request's id, nothing more. */
export interface ErrorBody {
  readonly error: string
  readonly requestId: string
}

/**
 * The body of every "not found", whether the thing does not exist or the
 * caller may not see it: the two must be indistinguishable.
 */
export const NOT_FOUND = 'not found'

/**
 * A string without NUL characters, for every text input that reaches SQL:
 * PostgreSQL cannot store NUL in text, and its refusal would otherwise be a
 * server error (500, an error-level log line) that any client could cause.
 */
export const text = (): z.ZodString =>
  z.string().regex(/^[^\u0000]*$/, 'must not contain a NUL character')

/**
 * A version (an update's seq) as a path or query value: 1 to 15 decimal
 * digits and nothing else, so ` `, `0x1`, `+1`, `1e3` and an empty value
 * are malformed (400) rather than read as some number.
 */
export const seqParam = (): z.ZodPipe<z.ZodString, z.ZodTransform<number, string>> =>
  z
    .string()
    .regex(/^[0-9]{1,15}$/, 'must be a version number')
    .transform(Number)

/** Sends `{error, requestId}` with `status`; returns the reply for `return sendError(...)`. */
export const sendError = (reply: FastifyReply, status: number, error: string): FastifyReply =>
  reply.code(status).send({ error, requestId: reply.request.id } satisfies ErrorBody)

/** Outcome of decoding request input. */
export type Decoded<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string }

/**
 * Decodes untrusted input (a body, a query) with `schema`. The failure
 * message names the first bad field and what was expected, never the value
 * sent (it may be a password).
 */
export const decodeInput = <T>(schema: z.ZodType<T>, input: unknown): Decoded<T> => {
  const parsed = schema.safeParse(input)
  if (parsed.success) return { ok: true, value: parsed.data }
  const issue = parsed.error.issues[0]
  if (issue === undefined) return { ok: false, error: 'invalid input' }
  const field = issue.path.map(String).join('.')
  return { ok: false, error: field === '' ? issue.message : `${field}: ${issue.message}` }
}

/** Decodes `input`, or sends 400 with the problem and returns null. */
export const decodeOrReply = <T>(
  schema: z.ZodType<T>,
  input: unknown,
  reply: FastifyReply,
): T | null => {
  const decoded = decodeInput(schema, input)
  if (decoded.ok) return decoded.value
  sendError(reply, 400, decoded.error)
  return null
}

// Requests are only ever keys here, so entries go with their requests.
const callers = new WeakMap<FastifyRequest, Caller>()

/**
 * An `onRequest` hook that admits only a signed-in caller: a valid, unrevoked
 * access cookie of an existing user. Anyone else gets 401 before the body is
 * read. Register it on the scope holding the routes that need a caller.
 */
export const createCallerHook =
  (auth: AuthService) =>
  async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    const caller = await auth.authenticate(request.cookies[COOKIE.access])
    if (caller === null) return sendError(reply, 401, 'not signed in')
    callers.set(request, caller)
    return undefined
  }

/**
 * The signed-in caller of a request on a route behind the caller hook.
 * Throws when there is none: that route was registered outside the hook.
 */
export const callerOf = (request: FastifyRequest): Caller => {
  const caller = callers.get(request)
  if (caller === undefined) {
    throw new Error(`route ${request.routeOptions.url ?? request.url} has no caller hook`)
  }
  return caller
}
