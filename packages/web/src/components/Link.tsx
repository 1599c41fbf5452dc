import type { AnchorHTMLAttributes, ReactNode } from 'react'
import { handleLinkClick } from '../router.js'

/** An in-app link: a real `<a href>` (so it opens in a new tab too) that navigates without a reload. */
export const Link = ({
  to,
  children,
  ...rest
}: { to: string; children: ReactNode } & AnchorHTMLAttributes<HTMLAnchorElement>) => (
  <a href={to} onClick={(event) => handleLinkClick(event, to)} {...rest}>
    {children}
  </a>
)
