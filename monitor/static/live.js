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
  const duration = seconds => {
    const s = Math.max(0, Math.floor(seconds))
    if (s >= 3600) return Math.floor(s / 3600) + 'h ' + Math.floor((s % 3600) / 60) + 'm'
    if (s >= 60) return Math.floor(s / 60) + 'm ' + (s % 60) + 's'
    return s + 's'
  }
  const events = new EventSource('/events')
  events.onmessage = message => {
    const values = JSON.parse(message.data)
    for (const field of fields) {
      const value = values[field.dataset.live]
      if (value === undefined) continue
      field.textContent = (show[field.dataset.format] || show.plain)(value)
    }
    // Every few seconds the server sends the charts redrawn.
    if (values.charts === undefined) return
    for (const [chart, drawn] of Object.entries(values.charts)) {
      for (const path of drawn.paths) {
        const element = document.querySelector('path[data-chart="' + chart + '"][data-series="' + path.key + '"]')
        if (element !== null) element.setAttribute('d', path.d)
      }
      const max = document.querySelector('[data-chart-max="' + chart + '"]')
      if (max !== null) max.textContent = (show[max.dataset.format] || show.plain)(drawn.max)
      const seconds = document.querySelector('[data-chart-seconds="' + chart + '"]')
      if (seconds !== null) seconds.textContent = duration(drawn.seconds)
    }
  }
})()

// The Logs page's live tail: new lines that pass the page's filter are added at the top.
;(function () {
  const body = document.getElementById('log-lines')
  const toggle = document.getElementById('live-tail')
  if (body === null || toggle === null || typeof EventSource === 'undefined') return
  const params = new URLSearchParams({ level: body.dataset.level || 'trace', q: body.dataset.q || '', after: body.dataset.after || '0' })
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

// The inspector: each step of the machine is added at the top, and the chart follows its state.
;(function () {
  const body = document.getElementById('inspect-steps')
  if (body === null || body.dataset.enabled !== 'yes' || typeof EventSource === 'undefined') return
  const events = new EventSource('/connections/' + encodeURIComponent(body.dataset.clientId) + '/inspect/events')
  events.addEventListener('end', () => events.close())
  events.onmessage = message => {
    const step = JSON.parse(message.data)
    const row = document.createElement('tr')
    row.className = 'step-' + step.kind
    for (const text of [new Date(step.at).toISOString().slice(11, 23), step.kind, step.name, step.state || '']) {
      const cell = document.createElement('td')
      cell.textContent = text
      row.appendChild(cell)
    }
    const empty = body.querySelector('.empty-row')
    if (empty) empty.remove()
    body.insertBefore(row, body.firstChild)
    while (body.children.length > 500) body.removeChild(body.lastChild)
    if (step.kind !== 'transition') return
    const active = new Set(step.activeIds)
    for (const node of document.querySelectorAll('[data-state-id]')) node.classList.toggle('active', active.has(node.dataset.stateId))
    const badge = document.getElementById('inspect-state')
    if (badge !== null) {
      badge.textContent = step.state
      badge.className = 'state state-' + step.state.split('.')[0]
    }
  }
})()

// Pages drawn on the server that follow live rates (the message flow) redraw themselves.
;(function () {
  const live = document.querySelector('[data-refresh-seconds]')
  if (live === null) return
  const redraw = () => {
    // Not while someone is typing a new filter: try again a little later.
    if (document.activeElement !== null && document.activeElement.tagName === 'INPUT') setTimeout(redraw, 1000)
    else window.location.reload()
  }
  setTimeout(redraw, Number(live.dataset.refreshSeconds) * 1000)
})()
