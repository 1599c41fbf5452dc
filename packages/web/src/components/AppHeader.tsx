import type { ReactElement, ReactNode } from 'react'
import { Link } from './Link.js'

/** The bar at the top of every signed-in page: the brand (a link home), then the page's own items. */
export const AppHeader = ({ children }: { children?: ReactNode }): ReactElement => (
  <header className="app-header">
    <Link to="/" className="brand" aria-label="Quire, all documents">
      <span className="brand-mark" aria-hidden="true" />
      <span className="brand-name">Quire</span>
    </Link>
    {children}
  </header>
)
