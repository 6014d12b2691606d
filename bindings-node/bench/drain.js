'use strict'
// Drain throughput: smartai-events' drain() against a plain fetch + node:crypto loop doing
// the same protocol (fetch 100, handle, acknowledge), both against the in-process emulator.
//   node bench/drain.js [events]
const crypto = require('node:crypto')
const { performance } = require('node:perf_hooks')
const { Emulator, default: AssessmentClient } = require('..')

function canonical(value) {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`
  if (value && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`).join(',')}}`
  }
  return JSON.stringify(value)
}

async function baseline(emu, handler) {
  const call = async (method, path, query, body) => {
    const timestamp = String(Date.now())
    const text = body ? canonical(body) : ''
    const signature = crypto.createHmac('sha256', emu.secretKey).update(`${method}:${path}:${timestamp}:${text}`).digest('hex')
    const headers = { 'x-api-key': emu.apiKey, 'x-timestamp': timestamp, 'x-signature': signature, accept: 'application/json' }
    if (body) headers['content-type'] = 'application/json'
    const res = await fetch(`${emu.url}${path}${query}`, { method, headers, body: text || undefined })
    if (!res.ok) throw new Error(`HTTP ${res.status}`)
    return res.json()
  }
  let events = 0
  for (;;) {
    const batch = await call('GET', '/api/v1/webhook/events', '?limit=100')
    if (batch.events.length) {
      await handler(batch.events)
      events += batch.events.length
      await call('POST', '/api/v1/webhook/events/acknowledge', '', { eventIds: batch.events.map((e) => e.eventId) })
    }
    if (batch.pendingCount === 0 || batch.events.length === 0) return events
  }
}

async function main() {
  const n = Number(process.argv[2] ?? 5000)
  const emu = await Emulator.start({ rate_limit: { idle_poll_interval_ms: null, bucket: null } })
  const client = new AssessmentClient({ ...emu.clientOptions(), minPollIntervalMs: 0 })
  let sink = 0
  const handler = async (events) => {
    for (const e of events) sink += e.eventId.length
  }
  const rates = { baseline: [], drain: [] }
  for (let round = 0; round < 3; round++) {
    for (const name of ['baseline', 'drain']) {
      emu.reset()
      emu.generate(n)
      const start = performance.now()
      const handled = name === 'baseline' ? await baseline(emu, handler) : (await client.drain(handler, { limit: 100 })).events
      const seconds = (performance.now() - start) / 1000
      if (handled !== n || emu.stats().pending !== 0) throw new Error(`${name}: handled ${handled} of ${n}`)
      rates[name].push(n / seconds)
    }
  }
  await emu.stop()
  const best = (xs) => Math.max(...xs)
  for (const [name, xs] of Object.entries(rates)) {
    console.log(`${name.padEnd(9)} best ${best(xs).toFixed(0).padStart(7)} events/s  (runs: ${xs.map((x) => x.toFixed(0)).join(', ')})`)
  }
  console.log(`drain / baseline = ${(best(rates.drain) / best(rates.baseline)).toFixed(2)}x  (sink ${sink > 0})`)
}

main().catch((err) => {
  console.error(err)
  process.exitCode = 1
})
