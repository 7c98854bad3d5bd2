// Handover front-end bootstrap (ES module; loaded with <script type="module">,
// so no inline script is needed and the CSP can forbid them).
import { initAll } from './govuk/govuk-frontend-6.6.0.min.js'
import './receiving-team.js'

// What GOV.UK's template does in its inline <script>. GOV.UK Frontend's
// isSupported() checks for `govuk-frontend-supported` on <body>, so this must
// run before initAll().
document.body.classList.add('js-enabled')
if ('noModule' in HTMLScriptElement.prototype) {
  document.body.classList.add('govuk-frontend-supported')
}

initAll()

// Nothing about a case may stay in the browser. htmx 2.0.11 writes the page's path to sessionStorage
// ('htmx-current-path-for-history') on every load, whatever historyCacheSize says; this service never pushes
// history entries, so htmx does not need it.
try {
  window.sessionStorage.removeItem('htmx-current-path-for-history')
} catch (error) {
  // storage blocked: then nothing was written either
}

// Components re-initialised after a swap throw InitError ("already
// initialised") when we scan a scope that still holds old ones; that is
// expected, so only log real errors.
function onError (error) {
  if (!error || error.name !== 'InitError') console.error(error)
}

// After htmx swaps content in, initialise GOV.UK components inside it.
// evt.detail.elt is the swap target (innerHTML) or each new element
// (outerHTML). initAll() only searches *descendants* of the scope, so scan
// from the parent to catch a swapped element that is itself a data-module root.
document.body.addEventListener('htmx:afterSettle', (evt) => {
  const elt = evt.detail && evt.detail.elt
  if (!(elt instanceof Element) || !elt.isConnected) return
  initAll({ scope: elt.parentElement || elt, onError })

  // GOV.UK validation pattern: move focus to the error summary of a form
  // re-rendered with errors. (ErrorSummary focuses itself on init; this
  // covers summaries that were already initialised or opted out.)
  const summary = elt.matches('.govuk-error-summary')
    ? elt
    : elt.querySelector('.govuk-error-summary')
  if (summary && !summary.contains(document.activeElement)) {
    if (!summary.hasAttribute('tabindex')) {
      summary.setAttribute('tabindex', '-1')
      summary.addEventListener('blur', () => summary.removeAttribute('tabindex'), { once: true })
    }
    summary.focus()
  }
})

// After a row is added or removed with htmx, keep keyboard and screen-reader users in place: focus the new row's
// heading, or the group's legend after a removal.
document.body.addEventListener('htmx:afterSettle', (evt) => {
  const button = evt.detail && evt.detail.requestConfig && evt.detail.requestConfig.triggeringEvent &&
    evt.detail.requestConfig.triggeringEvent.submitter
  const value = (button && button.value) || (evt.detail.requestConfig && evt.detail.requestConfig.elt &&
    evt.detail.requestConfig.elt.value) || ''
  const [kind, group] = value.split(':')
  if (kind !== 'add' && kind !== 'remove') return
  const container = document.getElementById(group)
  if (!container) return
  const headings = container.querySelectorAll('.app-row h3')
  const target = kind === 'add' && headings.length ? headings[headings.length - 1] : container.querySelector('legend')
  if (!target) return
  target.setAttribute('tabindex', '-1')
  target.focus()
})

// "Save and continue" must not race an autosave still on its way (it would carry the old version and look like
// someone else's change): wait for the autosave to come back, then send the form; and no autosave starts once the
// form is being sent.
document.addEventListener('submit', (evt) => {
  const form = evt.target
  if (!(form instanceof HTMLFormElement) || form.id !== 'section-form') return
  if (form.classList.contains('htmx-request')) {
    evt.preventDefault()
    const submitter = evt.submitter
    form.addEventListener('htmx:afterRequest', () => form.requestSubmit(submitter), { once: true })
    return
  }
  form.dataset.submitting = 'true'
}, true)

document.body.addEventListener('htmx:beforeRequest', (evt) => {
  const elt = evt.detail && evt.detail.elt
  if (elt instanceof HTMLFormElement && elt.dataset.submitting === 'true') evt.preventDefault()
})
