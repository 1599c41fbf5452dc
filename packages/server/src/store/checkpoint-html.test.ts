import { describe, expect, it } from 'vitest'
import { renderCheckpointHtml } from './checkpoint-html.js'

describe('renderCheckpointHtml', () => {
  it('replaces NUL, which a text column refuses, and gives null when rendering fails', async () => {
    const state = new Uint8Array([0, 0])
    expect(await renderCheckpointHtml(async () => '<p>a\u0000b</p>', state, undefined, 'd')).toBe(
      '<p>a\ufffdb</p>',
    )
    const failing = async (): Promise<string> => {
      throw new RangeError('Maximum call stack size exceeded')
    }
    expect(await renderCheckpointHtml(failing, state, undefined, 'd')).toBeNull()
    expect(await renderCheckpointHtml(undefined, state, undefined, 'd')).toBeNull()
  })
})
