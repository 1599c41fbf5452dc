/**
 * Names of WebSocket close codes for metric labels: a fixed, small set, so
 * a client choosing odd codes cannot grow the label space.
 */
import { CloseCode } from '@quire/protocol'

const NAMES = new Map<number, string>(
  Object.entries(CloseCode).map(([name, code]) => [code, toSnakeCase(name)]),
)
NAMES.set(1000, 'normal')
NAMES.set(1005, 'no_status')
NAMES.set(1006, 'abnormal')

function toSnakeCase(name: string): string {
  return name.replace(
    /[A-Z]/g,
    (letter, at: number) => `${at === 0 ? '' : '_'}${letter.toLowerCase()}`,
  )
}

/** The label of a close code; codes Quire does not use are `other`. */
export const closeReasonLabel = (code: number): string => NAMES.get(code) ?? 'other'
