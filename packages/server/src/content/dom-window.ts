/**
 * A throwaway DOM for the server: ProseMirror's HTML parser and serialiser
 * need a `Document`, which Node lacks. happy-dom provides one; it is set up
 * the way `@tiptap/html`'s server entry sets it up, with scripts, style
 * sheets, frames and remote files all disabled, so parsing hostile HTML runs
 * nothing and fetches nothing.
 */
import { Window, type Document } from 'happy-dom'

/** What `withDomDocument` hands its callback: a happy-dom document. */
export type DomDocument = Document

/**
 * Runs `use` with a fresh, inert document and closes the window afterwards,
 * whatever `use` does. The document must not escape the callback.
 */
export const withDomDocument = <T>(use: (document: DomDocument) => T): T => {
  const window = new Window({
    settings: {
      disableJavaScriptEvaluation: true,
      disableJavaScriptFileLoading: true,
      disableCSSFileLoading: true,
      disableIframePageLoading: true,
      disableComputedStyleRendering: true,
      navigation: { disableMainFrameNavigation: true, disableChildFrameNavigation: true },
    },
  })
  try {
    return use(window.document)
  } finally {
    // Closing aborts whatever the window started (nothing, with the settings
    // above); its promise settles later and has nothing left to report.
    window.happyDOM.close().catch(() => undefined)
  }
}
