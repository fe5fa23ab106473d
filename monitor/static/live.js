// Keeps the dashboard's numbers live: the server sends the broker's numbers once a second
// (Server-Sent Events on /events); every element with data-live="<name>" shows one of them.
// The page works without this script; it only saves the reloads.
(function () {
  const fields = document.querySelectorAll('[data-live]')
  if (fields.length === 0 || typeof EventSource === 'undefined') return
  const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 })
  const decimal = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 })
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  const bytes = value => {
    let unit = 0
    while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit++ }
    return (unit === 0 ? integer.format(value) : decimal.format(value)) + ' ' + units[unit]
  }
  const show = {
    rate: value => (value < 10 ? decimal.format(value) : integer.format(value)) + '/s',
    byteRate: value => bytes(value) + '/s',
    plain: value => typeof value === 'number' ? integer.format(value) : String(value)
  }
  const events = new EventSource('/events')
  events.onmessage = message => {
    const data = JSON.parse(message.data)
    const values = Object.assign({}, data.overview, data.traffic)
    for (const field of fields) {
      const value = values[field.dataset.live]
      if (value === undefined) continue
      field.textContent = (show[field.dataset.format] || show.plain)(value)
    }
  }
})()

// The Logs page's live tail: new lines that pass the page's filter are added at the top.
;(function () {
  const body = document.getElementById('log-lines')
  const toggle = document.getElementById('live-tail')
  if (body === null || toggle === null || typeof EventSource === 'undefined') return
  const params = new URLSearchParams({ level: body.dataset.level || 'trace', q: body.dataset.q || '' })
  const events = new EventSource('/logs/events?' + params)
  events.onmessage = message => {
    if (!toggle.checked) return
    const entry = JSON.parse(message.data)
    const row = document.createElement('tr')
    row.className = 'level-' + entry.level
    const cells = [new Date(entry.time).toISOString().slice(11, 23), entry.level, entry.message, entry.fields]
    cells.forEach((text, index) => {
      const cell = document.createElement('td')
      const inner = document.createElement(index === 1 ? 'span' : index === 3 ? 'code' : 'span')
      if (index === 1) inner.className = 'level'
      inner.textContent = text
      cell.appendChild(inner)
      row.appendChild(cell)
    })
    const empty = body.querySelector('.empty-row')
    if (empty) empty.remove()
    body.insertBefore(row, body.firstChild)
    while (body.children.length > 1000) body.removeChild(body.lastChild)
  }
})()
