// Plain-Node baseline: what you would write without this project.
// Global fetch + node:crypto, signing per docs/protocol.md (canonical JSON: keys sorted,
// JSON.stringify), a loop of GET limit=100, a no-op handler touching each event's ID, then
// POST acknowledge.
//
//   node plain_node.mjs URL API_KEY SECRET_KEY EXPECTED
//
// Prints one JSON line {"events": n, "batches": b, "seconds": s} (the drain alone).
import crypto from 'node:crypto'
import { performance } from 'node:perf_hooks'

const FETCH = '/api/v1/webhook/events'
const ACK = '/api/v1/webhook/events/acknowledge'
const MAX_CYCLES = 1_000_000 // bounded loop

const [url, apiKey, secretKey, expectedText] = process.argv.slice(2)
const base = url.replace(/\/+$/, '')
const expected = Number(expectedText)

function canonical(value) {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`
  if (value && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`).join(',')}}`
  }
  return JSON.stringify(value)
}

async function call(method, path, query, body) {
  const timestamp = String(Date.now())
  const text = body === undefined ? '' : canonical(body)
  const signature = crypto.createHmac('sha256', secretKey).update(`${method}:${path}:${timestamp}:${text}`).digest('hex')
  const headers = { 'x-api-key': apiKey, 'x-timestamp': timestamp, 'x-signature': signature, accept: 'application/json' }
  if (body !== undefined) headers['content-type'] = 'application/json'
  const res = await fetch(`${base}${path}${query}`, { method, headers, body: body === undefined ? undefined : text })
  if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${await res.text()}`)
  return res.json()
}

let sink = 0
async function handler(events) {
  for (const e of events) sink += e.eventId.length
}

let events = 0
let batches = 0
const started = performance.now()
for (let cycle = 0; cycle < MAX_CYCLES; cycle++) {
  const data = await call('GET', FETCH, '?limit=100')
  const batch = data.events
  if (batch.length) {
    await handler(batch)
    await call('POST', ACK, '', { eventIds: batch.map((e) => e.eventId) })
    events += batch.length
    batches += 1
  }
  if (data.pendingCount === 0 || batch.length === 0) break
}
const seconds = (performance.now() - started) / 1000
console.log(JSON.stringify({ events, batches, seconds, sink: sink > 0 }))
process.exitCode = events === expected ? 0 : 1
