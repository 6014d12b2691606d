'use strict'
// Arguments of every kind JavaScript has, passed to every public entry point: each call
// either succeeds or fails with a typed SmartAIError that has a code. napi's own conversion
// failures ("Failed to convert napi value ... into rust type ...", a plain Error without a
// code) must never reach a user. Against the real emulator.

const test = require('node:test')
const assert = require('node:assert/strict')
const { AssessmentClient, startEmulator, clientFor, withinMs, NO_RATE_LIMIT } = require('./helpers.js')

const { SmartAIError, InvalidArgumentError, Emulator } = AssessmentClient

const ODD = [
  ['"5"', '5'],
  ['undefined', undefined],
  ['null', null],
  ['5n', 5n],
  ['-1n', -1n],
  ['2n ** 64n', 2n ** 64n],
  ['a symbol', Symbol('s')],
  ['a function', () => {}],
  ['NaN', NaN],
  ['1.5', 1.5],
  ['true', true],
  ['{}', {}],
  ['[]', []],
  ['a Map', new Map([['limit', 0]])],
]

const NAPI_WORDING = /napi|rust type|Failed to convert|GenericFailure|InvalidArg\b|smartai-events-error/

/** Every public entry point that takes an argument, as `(value, emu, client) => result`. */
const ENTRY_POINTS = {
  'Emulator.start(v)': async (v) => (await Emulator.start(v)).stop(),
  'emu.generate(v)': (v, emu) => emu.generate(v),
  'emu.enqueue(v)': (v, emu) => emu.enqueue(v),
  'emu.setFaults(v)': (v, emu) => emu.setFaults(v),
  'emu.addFault(v)': (v, emu) => emu.addFault(v),
  'emu.setRateLimit(v)': (v, emu) => emu.setRateLimit(v),
  'emu.setClockOffsetMs(v)': (v, emu) => emu.setClockOffsetMs(v),
  'maskApiKey(v)': (v) => AssessmentClient.maskApiKey(v),
  'setLogger(v)': (v) => AssessmentClient.setLogger(v),
  'setLogger(console, v)': (v) => AssessmentClient.setLogger(console, v),
  'setLogger(console, { level: v })': (v) => AssessmentClient.setLogger(console, { level: v }),
  'new AssessmentClient(v)': (v) => new AssessmentClient(v),
  'new AssessmentClient({ ...keys, timeoutMs: v })': (v, emu) => new AssessmentClient({ ...emu.clientOptions(), timeoutMs: v }),
  'getWebhookEvents(v)': (v, emu, c) => c.getWebhookEvents(v),
  'getWebhookEvents({ limit: v })': (v, emu, c) => c.getWebhookEvents({ limit: v }),
  'getWebhookEvents({ signal: v })': (v, emu, c) => c.getWebhookEvents({ signal: v }),
  'acknowledgeWebhookEvents(v)': (v, emu, c) => c.acknowledgeWebhookEvents(v),
  'acknowledgeWebhookEvents([v])': (v, emu, c) => c.acknowledgeWebhookEvents([v]),
  'acknowledgeWebhookEvents(ids, v)': (v, emu, c) => c.acknowledgeWebhookEvents(['evt_1'], v),
  'createSession(v)': (v, emu, c) => c.createSession(v),
  'createSession(request, v)': (v, emu, c) => c.createSession({ users: [{ name: 'A', email: 'a@b.co' }], recruiterId: 'r' }, v),
  'drain(v)': (v, emu, c) => c.drain(v),
  'drain(fn, v)': (v, emu, c) => c.drain(() => {}, v),
  'drain(fn, { maxEvents: v })': (v, emu, c) => c.drain(() => {}, { maxEvents: v }),
  'batches(v).next()': async (v, emu, c) => {
    const it = c.batches(v)
    try {
      return await it.next()
    } finally {
      await it.return()
    }
  },
  'run(v, { signal: aborted })': (v, emu, c) => c.run(v, { intervalMs: 5000, signal: AbortSignal.abort() }),
  'run(fn, { intervalMs: v, signal: aborted })': (v, emu, c) => c.run(() => {}, { intervalMs: v, signal: AbortSignal.abort() }),
  'run(fn, { deadLetter: v, signal: aborted })': (v, emu, c) => c.run(() => {}, { intervalMs: 5000, deadLetter: v, signal: AbortSignal.abort() }),
}

let emu
let client
const saved = {}
test.before(async () => {
  for (const name of ['ASSESSMENT_API_KEY', 'ASSESSMENT_SECRET_KEY', 'ASSESSMENT_BASE_URL']) {
    saved[name] = process.env[name]
    delete process.env[name]
  }
  emu = await startEmulator()
  client = clientFor(emu)
})
test.after(async () => {
  AssessmentClient.setLogger(console)
  await client.close()
  await emu.stop()
  for (const [name, value] of Object.entries(saved)) if (value !== undefined) process.env[name] = value
})

for (const [call, run] of Object.entries(ENTRY_POINTS)) {
  test(`${call}: every kind of value succeeds or fails with a typed, coded error`, async () => {
    for (const [label, value] of ODD) {
      const outcome = await withinMs(
        Promise.resolve()
          .then(() => run(value, emu, client))
          .then(
            () => null,
            (error) => error,
          ),
        30_000,
        `${call} with ${label}`,
      )
      AssessmentClient.setLogger(console)
      emu.clearFaults()
      emu.setRateLimit(NO_RATE_LIMIT)
      if (outcome === null) continue
      const what = `${call} with ${label}: ${outcome && outcome.stack}`
      assert.ok(outcome instanceof SmartAIError, `not a SmartAIError: ${what}`)
      assert.equal(typeof outcome.code, 'string', what)
      assert.notEqual(outcome.code, 'UNKNOWN', what)
      assert.doesNotMatch(outcome.message, NAPI_WORDING, what)
    }
  })
}

test('generate names a value that is not a number, as it does NaN', () => {
  for (const [value, shown] of [
    ['5', '"5" (a string)'],
    [undefined, 'undefined'],
    [5n, '5n (a BigInt)'],
    [null, 'null'],
    [NaN, 'NaN'],
    [{}, 'an object'],
  ]) {
    assert.throws(
      () => emu.generate(value),
      (err) => {
        assert.ok(err instanceof InvalidArgumentError, `${String(value)}: ${err && err.stack}`)
        assert.equal(err.code, 'INVALID_ARGUMENT')
        assert.equal(err.message, `generate needs a non-negative integer, got ${shown}`)
        return true
      },
    )
  }
  assert.equal(emu.generate(2), 2)
})
