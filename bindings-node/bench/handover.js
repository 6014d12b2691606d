'use strict'
// How should a batch cross from Rust to JavaScript? Measures napi objects (serde_json::Value
// converted field by field) against JSON text that the facade `JSON.parse`s.
//   node bench/handover.js [iterations]
const { performance } = require('node:perf_hooks')
const native = require('../native.js')
const { Emulator, default: AssessmentClient } = require('..')

async function main() {
  const iterations = Number(process.argv[2] ?? 300)
  const emu = await Emulator.start({ rate_limit: { idle_poll_interval_ms: null, bucket: null } })
  emu.generate(100)
  const client = new AssessmentClient({ ...emu.clientOptions(), minPollIntervalMs: 0 })
  const { events } = await client.getWebhookEvents({ limit: 100 })
  await emu.stop()
  const text = JSON.stringify(events)
  console.log(`batch: ${events.length} events, ${text.length} bytes of JSON`)

  const viaObjects = () => native.__benchHandover(text, true)
  const viaJson = () => JSON.parse(native.__benchHandover(text, false)).events
  // Same result either way.
  require('node:assert').deepEqual(viaObjects(), viaJson())

  const results = {}
  for (let round = 0; round < 2; round++) {
    for (const [name, fn] of [['napi objects', viaObjects], ['JSON text + JSON.parse', viaJson]]) {
      for (let i = 0; i < 20; i++) fn()
      const start = performance.now()
      for (let i = 0; i < iterations; i++) fn()
      const ms = (performance.now() - start) / iterations
      results[name] = ms
    }
  }
  for (const [name, ms] of Object.entries(results)) {
    console.log(`${name.padEnd(24)} ${(ms * 1000).toFixed(0).padStart(6)} µs per 100-event batch (${((100 / ms) * 1000).toFixed(0)} events/s)`)
  }
  const ratio = results['napi objects'] / results['JSON text + JSON.parse']
  console.log(`JSON text is ${ratio.toFixed(2)}x the speed of napi objects`)
}

main().catch((err) => {
  console.error(err)
  process.exitCode = 1
})
