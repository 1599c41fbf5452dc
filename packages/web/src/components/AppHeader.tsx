import type { ReactElement, ReactNode } from 'react'
import { Link } from './Link.js'

/**
 * The bar at the top of every signed-in page: the brand (a link home), then
 * the page's own items. `className` is added to `app-header`, for a page's
 * own layout of its items.
 */
export const AppHeader = ({
  children,
  className,
}: {
  children?: ReactNode
  className?: string
}): ReactElement => (
  <header className={className === undefined ? 'app-header' : `app-header ${className}`}>
    <Link to="/" className="brand" aria-label="Quire, all documents">
      <span className="brand-mark" aria-hidden="true" />
      <span className="brand-name">Quire</span>
    </Link>
    {children}
  </header>
)
