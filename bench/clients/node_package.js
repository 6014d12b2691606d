'use strict'
// The Node package draining the emulator: client.drain with a no-op handler touching each
// event's ID.
//   node node_package.js URL API_KEY SECRET_KEY EXPECTED
// Prints one JSON line {"events": n, "batches": b, "seconds": s} (the drain alone).
// Resolves `smartai-events` from bench/.work/node/node_modules (see run.sh).
const { performance } = require('node:perf_hooks')
const AssessmentClient = require('smartai-events')

async function main() {
  const [url, apiKey, secretKey, expectedText] = process.argv.slice(2)
  const client = new AssessmentClient({ apiKey, secretKey, baseUrl: url, minPollIntervalMs: 0 })
  let sink = 0
  const handler = async (events) => {
    for (const e of events) sink += e.eventId.length
  }
  const started = performance.now()
  const summary = await client.drain(handler, { limit: 100 })
  const seconds = (performance.now() - started) / 1000
  console.log(JSON.stringify({ events: summary.events, batches: summary.batches, seconds }))
  process.exitCode = summary.events === Number(expectedText) && sink > 0 ? 0 : 1
}

main().catch((err) => {
  console.error(err)
  process.exitCode = 1
})
