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
