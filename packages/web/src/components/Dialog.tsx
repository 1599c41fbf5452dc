/**
 * A modal dialog on the native `<dialog>` element: the browser traps focus,
 * closes it on Escape and returns focus to where it was.
 */
import { type ReactElement, type ReactNode, useEffect, useId, useRef } from 'react'

export interface DialogProps {
  readonly title: string
  readonly onClose: () => void
  readonly children: ReactNode
  /** Extra class for sizing. */
  readonly className?: string
}

/** Rendered means open; unmount it to close. */
export const Dialog = ({ title, onClose, children, className }: DialogProps): ReactElement => {
  const ref = useRef<HTMLDialogElement>(null)
  const titleId = useId()

  useEffect(() => {
    const dialog = ref.current
    if (dialog === null) return
    if (!dialog.open) dialog.showModal()
    return () => dialog.close()
  }, [])

  return (
    <dialog
      ref={ref}
      className={`dialog ${className ?? ''}`}
      aria-labelledby={titleId}
      onCancel={(event) => {
        // Escape: let React unmount it rather than the browser closing it
        // behind React's back.
        event.preventDefault()
        onClose()
      }}
    >
      <h2 id={titleId} className="dialog-title">
        {title}
      </h2>
      {children}
    </dialog>
  )
}

/** A yes/no question; `onConfirm` does the action. */
export const ConfirmDialog = ({
  title,
  message,
  confirmLabel,
  onConfirm,
  onClose,
}: {
  title: string
  message: string
  confirmLabel: string
  onConfirm: () => void
  onClose: () => void
}): ReactElement => (
  <Dialog title={title} onClose={onClose}>
    <p>{message}</p>
    <div className="dialog-actions">
      <button type="button" className="button" onClick={onClose} autoFocus>
        Cancel
      </button>
      <button type="button" className="button button-danger" onClick={onConfirm}>
        {confirmLabel}
      </button>
    </div>
  </Dialog>
)
