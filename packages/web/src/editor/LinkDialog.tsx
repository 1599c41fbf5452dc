/** Adds, changes or removes the link at the selection. */
import type { Editor } from '@tiptap/core'
import { isAllowedLink } from '@quire/schema/editor'
import { type FormEvent, type ReactElement, useState } from 'react'
import { Dialog } from '../components/Dialog.js'

export const LinkDialog = ({
  editor,
  onClose,
}: {
  editor: Editor
  onClose: () => void
}): ReactElement => {
  const current = (editor.getAttributes('link') as { href?: unknown }).href
  const [href, setHref] = useState(typeof current === 'string' ? current : '')
  const [error, setError] = useState<string | null>(null)

  const handleSubmit = (event: FormEvent<HTMLFormElement>): void => {
    event.preventDefault()
    const target = normaliseHref(href)
    if (target === '') {
      editor.chain().focus().extendMarkRange('link').unsetLink().run()
      onClose()
      return
    }
    if (!isAllowedLink(target)) {
      setError('Links must start with http://, https:// or mailto:.')
      return
    }
    const chain = editor.chain().focus().extendMarkRange('link')
    // With nothing selected, the address itself becomes the link text.
    if (editor.state.selection.empty && !editor.isActive('link')) {
      chain
        .insertContent({
          type: 'text',
          text: target,
          marks: [{ type: 'link', attrs: { href: target } }],
        })
        .run()
    } else {
      chain.setLink({ href: target }).run()
    }
    onClose()
  }

  return (
    <Dialog title={current === undefined ? 'Add link' : 'Edit link'} onClose={onClose}>
      <form onSubmit={handleSubmit}>
        <label className="field">
          <span>Address</span>
          <input
            type="text"
            inputMode="url"
            placeholder="https://example.com"
            value={href}
            autoFocus
            onChange={(event) => setHref(event.target.value)}
          />
        </label>
        {error !== null && (
          <p className="form-error" role="alert">
            {error}
          </p>
        )}
        <div className="dialog-actions">
          {current !== undefined && (
            <button
              type="button"
              className="button button-danger-text"
              onClick={() => {
                editor.chain().focus().extendMarkRange('link').unsetLink().run()
                onClose()
              }}
            >
              Remove link
            </button>
          )}
          <button type="button" className="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="button button-primary">
            Save
          </button>
        </div>
      </form>
    </Dialog>
  )
}

/** Adds `https://` to a bare address such as `example.com`. */
const normaliseHref = (value: string): string => {
  const trimmed = value.trim()
  if (trimmed === '' || /^[a-z][a-z0-9+.-]*:/i.test(trimmed) || trimmed.startsWith('/'))
    return trimmed
  return `https://${trimmed}`
}
