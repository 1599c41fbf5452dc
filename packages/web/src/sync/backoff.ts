/**
 * Reconnect delays: exponential backoff with full jitter, so that the
 * clients of a node that restarts do not all come back in the same instant.
 */

/** First backoff step, in ms. */
export const RECONNECT_BASE_MS = 500

/** Longest wait between two connection attempts, in ms. */
export const RECONNECT_CAP_MS = 30_000

/**
 * The delay before attempt `attempt` (0 for the first retry): a uniformly
 * random time between 0 and min(cap, base · 2^attempt).
 */
export const reconnectDelayMs = (attempt: number, random: () => number = Math.random): number =>
  Math.floor(random() * Math.min(RECONNECT_CAP_MS, RECONNECT_BASE_MS * 2 ** Math.min(attempt, 16)))
