/**
 * Toolbar icons as inline SVG elements (React creates them as DOM nodes,
 * which the CSP allows; no icon font, no data: URLs). 24×24, stroked with
 * the current text colour.
 */
import type { ReactElement } from 'react'

const Svg = ({ children }: { children: ReactElement | ReactElement[] }): ReactElement => (
  <svg
    viewBox="0 0 24 24"
    fill="none"
    stroke="currentColor"
    strokeWidth={2}
    strokeLinecap="round"
    strokeLinejoin="round"
    aria-hidden="true"
    focusable="false"
  >
    {children}
  </svg>
)

export const LinkIcon = (): ReactElement => (
  <Svg>
    <path d="M10 13a5 5 0 0 0 7.5.5l3-3a5 5 0 0 0-7-7l-1.7 1.7" />
    <path d="M14 11a5 5 0 0 0-7.5-.5l-3 3a5 5 0 0 0 7 7l1.7-1.7" />
  </Svg>
)

export const BulletListIcon = (): ReactElement => (
  <Svg>
    <path d="M9 6h11M9 12h11M9 18h11" />
    <circle cx="4.5" cy="6" r="1" fill="currentColor" />
    <circle cx="4.5" cy="12" r="1" fill="currentColor" />
    <circle cx="4.5" cy="18" r="1" fill="currentColor" />
  </Svg>
)

export const OrderedListIcon = (): ReactElement => (
  <Svg>
    <path d="M10 6h10M10 12h10M10 18h10" />
    <path d="M4 5l1.5-1v5" strokeWidth={1.6} />
    <path d="M3.5 14.2c.4-.7 2.6-.9 2.6.6 0 1-2.6 2-2.6 3.2h2.8" strokeWidth={1.6} />
  </Svg>
)

export const TaskListIcon = (): ReactElement => (
  <Svg>
    <rect x="3" y="4" width="6" height="6" rx="1.2" />
    <path d="M4.5 7l1.2 1.2L8 5.8" strokeWidth={1.6} />
    <rect x="3" y="14" width="6" height="6" rx="1.2" />
    <path d="M13 7h8M13 17h8" />
  </Svg>
)

export const QuoteIcon = (): ReactElement => (
  <Svg>
    <path d="M4 5v14" />
    <path d="M9 8h11M9 12h11M9 16h7" />
  </Svg>
)

export const CodeBlockIcon = (): ReactElement => (
  <Svg>
    <rect x="3" y="4" width="18" height="16" rx="2" />
    <path d="M9.5 10l-2 2 2 2M14.5 10l2 2-2 2" />
  </Svg>
)

export const RuleIcon = (): ReactElement => (
  <Svg>
    <path d="M3 12h18" />
    <path d="M7 6h10M7 18h10" strokeOpacity={0.35} />
  </Svg>
)

export const UndoIcon = (): ReactElement => (
  <Svg>
    <path d="M9 14L4 9l5-5" />
    <path d="M4 9h10.5a5.5 5.5 0 0 1 0 11H11" />
  </Svg>
)

export const RedoIcon = (): ReactElement => (
  <Svg>
    <path d="M15 14l5-5-5-5" />
    <path d="M20 9H9.5a5.5 5.5 0 0 0 0 11H13" />
  </Svg>
)
