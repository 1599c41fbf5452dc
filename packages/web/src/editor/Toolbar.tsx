/**
 * The formatting toolbar. Every control is a `<button>` with an
 * `aria-label`; toggles carry `aria-pressed`. It is one `role="toolbar"`
 * with roving focus (arrow keys move between buttons, Tab leaves), as the
 * ARIA toolbar pattern asks, so keyboard users cross it in one stop.
 */
import type { Editor } from '@tiptap/core'
import { useEditorState } from '@tiptap/react'
import { type KeyboardEvent, type ReactElement, type ReactNode, useRef } from 'react'
import {
  BulletListIcon,
  CodeBlockIcon,
  LinkIcon,
  OrderedListIcon,
  QuoteIcon,
  RedoIcon,
  RuleIcon,
  TaskListIcon,
  UndoIcon,
} from './icons.js'

interface ToolbarItem {
  readonly label: string
  /** Keyboard shortcut shown in the tooltip. */
  readonly keys?: string
  readonly icon: ReactNode
  readonly isActive?: (editor: Editor) => boolean
  readonly run: (editor: Editor) => void
  readonly isEnabled?: (editor: Editor) => boolean
}

const isMac = typeof navigator !== 'undefined' && /Mac|iP(hone|ad)/.test(navigator.platform)
const MOD = isMac ? '⌘' : 'Ctrl+'
const ALT = isMac ? '⌥' : 'Alt+'
const SHIFT = isMac ? '⇧' : 'Shift+'

const focus = (editor: Editor) => editor.chain().focus()

/** Groups of buttons, separated visually. */
const GROUPS = (openLinkDialog: () => void): readonly (readonly ToolbarItem[])[] => [
  [
    {
      label: 'Paragraph',
      icon: '¶',
      keys: `${MOD}${ALT}0`,
      isActive: (e) => e.isActive('paragraph'),
      run: (e) => focus(e).setParagraph().run(),
    },
    ...([1, 2, 3] as const).map((level): ToolbarItem => ({
      label: `Heading ${level}`,
      icon: `H${level}`,
      keys: `${MOD}${ALT}${level}`,
      isActive: (e) => e.isActive('heading', { level }),
      run: (e) => focus(e).toggleHeading({ level }).run(),
    })),
  ],
  [
    {
      label: 'Bold',
      icon: 'B',
      keys: `${MOD}B`,
      isActive: (e) => e.isActive('bold'),
      run: (e) => focus(e).toggleBold().run(),
    },
    {
      label: 'Italic',
      icon: 'I',
      keys: `${MOD}I`,
      isActive: (e) => e.isActive('italic'),
      run: (e) => focus(e).toggleItalic().run(),
    },
    {
      label: 'Strikethrough',
      icon: 'S',
      keys: `${MOD}${SHIFT}S`,
      isActive: (e) => e.isActive('strike'),
      run: (e) => focus(e).toggleStrike().run(),
    },
    {
      label: 'Inline code',
      icon: '</>',
      keys: `${MOD}E`,
      isActive: (e) => e.isActive('code'),
      run: (e) => focus(e).toggleCode().run(),
    },
    {
      label: 'Link',
      icon: <LinkIcon />,
      isActive: (e) => e.isActive('link'),
      run: () => openLinkDialog(),
    },
  ],
  [
    {
      label: 'Bullet list',
      icon: <BulletListIcon />,
      keys: `${MOD}${SHIFT}8`,
      isActive: (e) => e.isActive('bulletList'),
      run: (e) => focus(e).toggleBulletList().run(),
    },
    {
      label: 'Numbered list',
      icon: <OrderedListIcon />,
      keys: `${MOD}${SHIFT}7`,
      isActive: (e) => e.isActive('orderedList'),
      run: (e) => focus(e).toggleOrderedList().run(),
    },
    {
      label: 'Task list',
      icon: <TaskListIcon />,
      keys: `${MOD}${SHIFT}9`,
      isActive: (e) => e.isActive('taskList'),
      run: (e) => focus(e).toggleTaskList().run(),
    },
  ],
  [
    {
      label: 'Quote',
      icon: <QuoteIcon />,
      keys: `${MOD}${SHIFT}B`,
      isActive: (e) => e.isActive('blockquote'),
      run: (e) => focus(e).toggleBlockquote().run(),
    },
    {
      label: 'Code block',
      icon: <CodeBlockIcon />,
      keys: `${MOD}${ALT}C`,
      isActive: (e) => e.isActive('codeBlock'),
      run: (e) => focus(e).toggleCodeBlock().run(),
    },
    {
      label: 'Horizontal rule',
      icon: <RuleIcon />,
      run: (e) => focus(e).setHorizontalRule().run(),
    },
  ],
  [
    {
      label: 'Undo',
      icon: <UndoIcon />,
      keys: `${MOD}Z`,
      run: (e) => focus(e).undo().run(),
      isEnabled: (e) => e.can().undo(),
    },
    {
      label: 'Redo',
      icon: <RedoIcon />,
      keys: isMac ? `${MOD}${SHIFT}Z` : `${MOD}Y`,
      run: (e) => focus(e).redo().run(),
      isEnabled: (e) => e.can().redo(),
    },
  ],
]

export const Toolbar = ({
  editor,
  isDisabled,
  onOpenLinkDialog,
}: {
  editor: Editor
  isDisabled: boolean
  onOpenLinkDialog: () => void
}): ReactElement => {
  const groups = GROUPS(onOpenLinkDialog)
  const items = groups.flat()
  // Re-render on selection and content changes, only when a state changed.
  const states = useEditorState({
    editor,
    selector: ({ editor: current }) =>
      items
        .map(
          (item) =>
            `${item.isActive?.(current) === true ? 1 : 0}${item.isEnabled?.(current) === false ? 0 : 1}`,
        )
        .join(''),
  })
  const ref = useRef<HTMLDivElement>(null)

  const handleKeyDown = (event: KeyboardEvent<HTMLDivElement>): void => {
    const keys = ['ArrowLeft', 'ArrowRight', 'Home', 'End']
    if (!keys.includes(event.key) || ref.current === null) return
    const buttons = [...ref.current.querySelectorAll<HTMLButtonElement>('button:not(:disabled)')]
    const index = buttons.indexOf(document.activeElement as HTMLButtonElement)
    const next =
      event.key === 'Home'
        ? 0
        : event.key === 'End'
          ? buttons.length - 1
          : (index + (event.key === 'ArrowRight' ? 1 : -1) + buttons.length) % buttons.length
    event.preventDefault()
    buttons[next]?.focus()
  }

  let position = 0
  return (
    <div
      ref={ref}
      role="toolbar"
      aria-label="Formatting"
      aria-disabled={isDisabled}
      className="toolbar"
      onKeyDown={handleKeyDown}
    >
      {groups.map((group, groupIndex) => (
        <div className="toolbar-group" key={groupIndex}>
          {group.map((item) => {
            const state = states.slice(position * 2, position * 2 + 2)
            position++
            const isActive = state[0] === '1'
            const isEnabled = state[1] === '1'
            return (
              <button
                key={item.label}
                type="button"
                className="toolbar-button"
                aria-label={item.label}
                aria-pressed={item.isActive === undefined ? undefined : isActive}
                title={item.keys === undefined ? item.label : `${item.label} (${item.keys})`}
                data-testid={`toolbar-${item.label.toLowerCase().replace(/\s+/g, '-')}`}
                disabled={isDisabled || !isEnabled}
                // Keep the editor's selection: a mousedown on a button would blur it.
                onMouseDown={(event) => event.preventDefault()}
                onClick={() => item.run(editor)}
                tabIndex={position === 1 ? 0 : -1}
              >
                <span
                  aria-hidden="true"
                  className={`icon icon-${item.label.toLowerCase().replace(/\s+/g, '-')}`}
                >
                  {item.icon}
                </span>
              </button>
            )
          })}
        </div>
      ))}
    </div>
  )
}
