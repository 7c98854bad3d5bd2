// The start page: offer as receiving worker only the workers of the team chosen.
//
// Without JavaScript the form chooses the team first: its "Continue" button redraws the form with that team's
// workers. With JavaScript, choosing a team asks the server for the form drawn for that team
// (GET /cases/<id>/handover?receiving_team=<id>) and puts its list of workers in place, so nothing typed is lost
// and "Continue" is not needed. The server still checks the worker is in the team when the handover is started.

const WITHOUT_SCRIPT = '[data-without-script]'

function hideWithoutScriptParts (root) {
  for (const element of root.querySelectorAll(WITHOUT_SCRIPT)) {
    element.hidden = true
    element.classList.add('govuk-!-display-none')
  }
}

function showWithoutScriptParts (root) {
  for (const element of root.querySelectorAll(WITHOUT_SCRIPT)) {
    element.hidden = false
    element.classList.remove('govuk-!-display-none')
  }
}

async function workersFor (address, teamId) {
  const url = new URL(address, window.location.href)
  if (teamId) url.searchParams.set('receiving_team', teamId)
  const response = await fetch(url, { credentials: 'same-origin', headers: { Accept: 'text/html' } })
  const page = new DOMParser().parseFromString(await response.text(), 'text/html')
  return page.getElementById('receiver-choice')
}

export function narrowReceivers (root = document) {
  const team = root.querySelector('select[data-workers-from]')
  if (!team) return
  hideWithoutScriptParts(root)
  let latest = 0
  team.addEventListener('change', async () => {
    const asked = ++latest
    let fresh = null
    try {
      fresh = await workersFor(team.dataset.workersFrom, team.value)
    } catch (error) {
      fresh = null
    }
    if (asked !== latest) return // the team was changed again while this was on its way
    const current = document.getElementById('receiver-choice')
    if (!fresh || !current) {
      showWithoutScriptParts(root) // the form's own way still works
      return
    }
    hideWithoutScriptParts(fresh)
    current.replaceWith(fresh)
    const status = document.getElementById('receiver-status')
    if (status) {
      const chosen = team.options[team.selectedIndex]
      status.textContent = team.value ? `The list of receiving workers now shows the workers in ${chosen.text}.` : ''
    }
  })
}

narrowReceivers()
