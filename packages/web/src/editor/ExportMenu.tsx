/**
 * The document menu's export entries: the document as HTML, Markdown, plain
 * text or the editor's JSON, downloaded as a file. A menu button (ARIA menu
 * pattern): Enter, Space or Down opens it on the first item, arrows move,
 * Escape closes it and returns focus to the button.
 */
import { type KeyboardEvent, type ReactElement, useEffect, useId, useRef, useState } from 'react'
import { exportDocument } from '../api/endpoints.js'
import type { ExportFormat } from '../api/types.js'

const FORMATS: readonly { format: ExportFormat; label: string; extension: string }[] = [
  { format: 'html', label: 'HTML (.html)', extension: 'html' },
  { format: 'markdown', label: 'Markdown (.md)', extension: 'md' },
  { format: 'text', label: 'Plain text (.txt)', extension: 'txt' },
  { format: 'json', label: 'Editor JSON (.json)', extension: 'json' },
]

export const ExportMenu = ({ docId, title }: { docId: string; title: string }): ReactElement => {
  const [isOpen, setIsOpen] = useState(false)
  const [error, setError] = useState<string | null>(null)
  const menuId = useId()
  const buttonRef = useRef<HTMLButtonElement>(null)
  const menuRef = useRef<HTMLUListElement>(null)

  useEffect(() => {
    if (!isOpen) return
    menuRef.current?.querySelector<HTMLButtonElement>('button')?.focus()
    const handleOutside = (event: MouseEvent): void => {
      const target = event.target as Node
      if (!menuRef.current?.contains(target) && !buttonRef.current?.contains(target)) {
        setIsOpen(false)
      }
    }
    document.addEventListener('mousedown', handleOutside)
    return () => document.removeEventListener('mousedown', handleOutside)
  }, [isOpen])

  const close = (): void => {
    setIsOpen(false)
    buttonRef.current?.focus()
  }

  const handleExport = async (format: ExportFormat, extension: string): Promise<void> => {
    close()
    const result = await exportDocument(docId, format)
    if (!result.ok) {
      setError(result.status === 0 ? 'Exporting needs a connection.' : result.error)
      return
    }
    setError(null)
    const url = URL.createObjectURL(result.data)
    const link = document.createElement('a')
    link.href = url
    link.download = `${fileNameOf(title)}.${extension}`
    document.body.append(link)
    link.click()
    link.remove()
    // Give the browser the turn to start the download before the URL goes.
    setTimeout(() => URL.revokeObjectURL(url), 0)
  }

  const handleMenuKey = (event: KeyboardEvent<HTMLUListElement>): void => {
    const items = [...(menuRef.current?.querySelectorAll<HTMLButtonElement>('button') ?? [])]
    const index = items.indexOf(document.activeElement as HTMLButtonElement)
    const move = (to: number): void => items[(to + items.length) % items.length]?.focus()
    if (event.key === 'ArrowDown') move(index + 1)
    else if (event.key === 'ArrowUp') move(index - 1)
    else if (event.key === 'Home') move(0)
    else if (event.key === 'End') move(items.length - 1)
    else if (event.key === 'Escape' || event.key === 'Tab') close()
    else return
    event.preventDefault()
  }

  return (
    <div className="menu-wrap">
      <button
        ref={buttonRef}
        type="button"
        className="button"
        aria-haspopup="menu"
        aria-expanded={isOpen}
        aria-controls={menuId}
        onClick={() => setIsOpen((open) => !open)}
        onKeyDown={(event) => {
          if (event.key === 'ArrowDown') {
            event.preventDefault()
            setIsOpen(true)
          }
        }}
      >
        Export
      </button>
      {isOpen && (
        <ul
          id={menuId}
          ref={menuRef}
          className="menu"
          role="menu"
          aria-label="Export as"
          onKeyDown={handleMenuKey}
        >
          {FORMATS.map(({ format, label, extension }) => (
            <li key={format} role="none">
              <button
                type="button"
                role="menuitem"
                tabIndex={-1}
                className="menu-item"
                onClick={() => void handleExport(format, extension)}
              >
                {label}
              </button>
            </li>
          ))}
        </ul>
      )}
      {error !== null && (
        <span className="title-error" role="alert">
          {error}
        </span>
      )}
    </div>
  )
}

/** A file name from a title: no path separators or control characters. */
const fileNameOf = (title: string): string =>
  // eslint-disable-next-line no-control-regex
  title
    .replace(/[\\/:*?"<>|\u0000-\u001f]+/g, ' ')
    .trim()
    .slice(0, 100) || 'document'
