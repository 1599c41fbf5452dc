import type { ReactElement, ReactNode } from 'react'
import { AppHeader } from '../components/AppHeader.js'
import { Link } from '../components/Link.js'

/** A page that only says something: a missing page, a deleted document. */
export const MessagePage = ({
  title,
  message,
  children,
}: {
  title: string
  message: string
  children?: ReactNode
}): ReactElement => (
  <>
    <AppHeader />
    <main className="message-page">
      <h1>{title}</h1>
      <p>{message}</p>
      {children ?? (
        <p>
          <Link to="/" className="button">
            Back to your documents
          </Link>
        </p>
      )}
    </main>
  </>
)
