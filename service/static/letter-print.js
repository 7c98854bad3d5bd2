// The printable letter's "Print this letter" button, made only when JavaScript runs (without it, the page says to use
// the browser's own print command, and shows no button that would do nothing). It opens the browser's print dialogue.
for (const place of document.querySelectorAll('[data-print-button]')) {
  const button = document.createElement('button')
  button.type = 'button'
  button.className = 'govuk-button'
  button.textContent = place.dataset.printButton
  button.addEventListener('click', () => window.print())
  place.append(button)
}
