// The sign-out warning (WCAG 2.2.1, timing adjustable), after GOV.UK services' timeout warning: before the session
// ends, a modal dialog says so, moves focus into itself, announces the time left politely, and offers "Stay signed
// in" (Escape does the same) or "Sign out". The server says how long the session has (data attributes on <body>);
// every request the page makes (htmx, autosave, the keep-alive) starts the idle time again, as it does on the server.
// Without JavaScript there is no dialog: the server's sign-in page says why the person was signed out.

const body = document.body
const dialog = document.getElementById('timeout-dialog')
const idleSeconds = Number(body.dataset.sessionIdle)
const leftSeconds = Number(body.dataset.sessionLeft)

if (dialog && typeof dialog.showModal === 'function' && idleSeconds > 0 && leftSeconds > 0) {
  const stay = document.getElementById('timeout-stay')
  const countdown = document.getElementById('timeout-countdown')
  const announce = document.getElementById('timeout-announce')
  const message = document.getElementById('timeout-message')
  const token = dialog.querySelector('input[name="_csrf_token"]')
  // warn two minutes before the end, or halfway through a very short session
  const warnMs = Math.min(120, idleSeconds / 2) * 1000
  const hardEnd = Date.now() + leftSeconds * 1000 // the absolute limit: nothing extends it
  const channel = 'BroadcastChannel' in window ? new BroadcastChannel('handover-session') : null
  let deadline = 0
  let timer = null
  let announced = ''
  let returnFocus = null
  let leaving = false

  const words = (seconds) => {
    if (seconds >= 60) {
      const minutes = Math.ceil(seconds / 60)
      return minutes === 1 ? '1 minute' : `${minutes} minutes`
    }
    return seconds === 1 ? '1 second' : `${seconds} seconds`
  }

  const atLimit = () => hardEnd <= Date.now() + idleSeconds * 1000

  // Screen readers hear the time left when the dialog opens, then each minute and at 30 seconds: not every second.
  const say = (seconds) => {
    const step = seconds > 60 ? `${Math.ceil(seconds / 60)}m` : seconds > 30 ? '1m' : seconds > 0 ? '30s' : ''
    if (step && step !== announced) {
      announced = step
      announce.textContent = `You will be signed out in ${words(seconds)}.`
    }
  }

  const signedOut = () => {
    // Loading the page again lets the server decide: if the session has ended it sends the browser to the sign-in
    // page, saying why; if another tab kept it going, the page simply reloads.
    window.location.assign(window.location.href)
  }

  const tick = () => {
    const seconds = Math.max(0, Math.ceil((deadline - Date.now()) / 1000))
    if (seconds <= 0) {
      clearInterval(timer)
      signedOut()
      return
    }
    if (deadline - Date.now() <= warnMs) {
      if (!dialog.open) open()
      countdown.textContent = words(seconds)
      say(seconds)
    }
  }

  const open = () => {
    const limit = atLimit()
    message.textContent = limit ? message.dataset.limitText : message.dataset.idleText
    stay.textContent = limit ? 'Continue' : 'Stay signed in'
    returnFocus = document.activeElement
    announced = ''
    dialog.showModal()
    stay.focus() // the dialog's first action; its heading and message are read as its name and description
  }

  const close = () => {
    if (!dialog.open) return
    dialog.close()
    if (returnFocus instanceof HTMLElement && returnFocus.isConnected) returnFocus.focus()
  }

  const restart = (from = Date.now()) => {
    deadline = Math.min(from + idleSeconds * 1000, hardEnd)
    clearInterval(timer)
    timer = setInterval(tick, 1000)
  }

  const activity = () => {
    restart()
    close()
    if (channel) channel.postMessage({ at: Date.now() })
  }

  const keepAlive = async () => {
    if (leaving) return // the browser is going to another page, which starts the idle time again itself
    if (atLimit()) { // nothing can extend the session now: the dialog closes and the countdown goes on
      close()
      return
    }
    try {
      const response = await fetch('/session/keep-alive', {
        method: 'POST',
        credentials: 'same-origin',
        redirect: 'manual', // a session already ended answers with the sign-in redirect
        headers: { 'x-csrftoken': token ? token.value : '', accept: 'application/json' }
      })
      if (response.ok) {
        await response.json() // read to the end: a body left unread is cut off, as an error, when the page changes
        activity()
        return
      }
    } catch (error) {
      // the network is down: the countdown goes on, and the server decides at the end
    }
    signedOut()
  }

  window.addEventListener('beforeunload', () => { leaving = true })
  window.addEventListener('pageshow', () => { leaving = false }) // back to this page from the browser's cache
  stay.addEventListener('click', keepAlive)
  dialog.addEventListener('cancel', (evt) => { // Escape: stay signed in, as the pattern does
    evt.preventDefault()
    keepAlive()
  })
  body.addEventListener('htmx:afterRequest', (evt) => {
    const xhr = evt.detail && evt.detail.xhr
    if (xhr && xhr.status > 0 && xhr.status < 400 && !xhr.getResponseHeader('HX-Redirect')) activity()
  })
  if (channel) {
    channel.addEventListener('message', (evt) => {
      if (evt.data && typeof evt.data.at === 'number') {
        restart(evt.data.at)
        close()
      }
    })
  }
  restart()
}
