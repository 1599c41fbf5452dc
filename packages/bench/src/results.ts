/**
 * The shape of a benchmark's results (one JSON file per invocation), shared
 * by the runner and the report.
 */
import type { ServerKind } from './client/adapters.js'
import type { MachineDescription, ServerVersions } from './machine.js'
import type { DocumentParams, DocumentResult } from './workloads/document.js'
import type { DurabilityParams, DurabilityResult } from './workloads/durability.js'
import type { FanOutParams, FanOutResult } from './workloads/fan-out.js'
import type { MemoryParams, MemoryResult } from './workloads/memory.js'

/** Every run of one measurement, and their field-wise median. */
export interface Measured<T> {
  readonly runs: T[]
  readonly median: T
}

/** One benchmark invocation. */
export interface BenchResults {
  readonly measuredAt: string
  readonly isQuick: boolean
  readonly runsPerMeasurement: number
  readonly machine: MachineDescription
  readonly versions: ServerVersions
  readonly isPinned: boolean
  readonly servers: readonly ServerKind[]
  /** Flags every Quire node ran with (beyond storage). */
  readonly quireFlags: readonly string[]
  /** Whether Quire ran its compiled build or its source through tsx. */
  readonly quireEntry?: 'build' | 'source'
  readonly fanOut: {
    readonly params: readonly FanOutParams[]
    readonly results: Record<string, Partial<Record<ServerKind, Measured<FanOutResult>>>>
  }
  readonly memory?: {
    readonly params: MemoryParams
    readonly results: Partial<Record<ServerKind, Measured<MemoryResult>>>
  }
  readonly document?: {
    readonly params: DocumentParams
    readonly results: Partial<Record<ServerKind, DocumentResult>>
  }
  readonly durability?: {
    readonly params: readonly DurabilityParams[]
    readonly results: Record<string, Partial<Record<ServerKind, Measured<DurabilityResult>>>>
  }
  /** Measurements that failed, with the error, so a partial result still says what is missing. */
  readonly failures: { readonly what: string; readonly error: string }[]
}

/** The key of a durability load in `BenchResults.durability.results`. */
export const durabilityKey = (params: DurabilityParams): string =>
  `${params.clients}c-${params.editsPerSecond}eps`
