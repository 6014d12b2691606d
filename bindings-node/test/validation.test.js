'use strict'
// Client-side validation: every rule is the core's; these tests check that each one reaches
// JavaScript with its code, its message and the right class, and that nothing was sent.

const test = require('node:test')
const assert = require('node:assert/strict')
const { AssessmentClient, startEmulator, clientFor } = require('./helpers.js')

const { SmartAIError, InvalidArgumentError, ConfigurationError, Emulator } = AssessmentClient

let emu
let client
test.before(async () => {
  emu = await startEmulator()
  client = clientFor(emu)
})
test.after(async () => {
  await emu.stop()
})

async function rejectsWith(promise, Cls, code, pattern) {
  await assert.rejects(promise, (err) => {
    assert.ok(err instanceof Cls, `expected ${Cls.name}, got ${err && err.constructor && err.constructor.name}: ${err}`)
    assert.ok(err instanceof SmartAIError)
    assert.ok(err instanceof Error)
    assert.equal(err.code, code)
    assert.notEqual(err.code, 'GenericFailure')
    assert.match(err.message, pattern)
    assert.ok(!err.message.includes('smartai-events-error'), err.message)
    return true
  })
}

test('limit: 0, -1, 1.5, NaN, "5", Infinity are refused before any request', async () => {
  emu.clearRequestLog()
  const cases = [
    [0, /limit must be an integer >= 1, got 0/],
    [-1, /limit must be an integer >= 1, got -1/],
    [1.5, /limit must be an integer >= 1, got 1\.5/],
    [NaN, /limit must be a finite number, got NaN/],
    ['5', /limit must be an integer >= 1, got "5" \(a string\)/],
    [Infinity, /limit must be a finite number, got Infinity/],
    [true, /limit must be an integer >= 1, got true/],
  ]
  for (const [limit, pattern] of cases) {
    await rejectsWith(client.getWebhookEvents({ limit }), InvalidArgumentError, 'INVALID_ARGUMENT', pattern)
  }
  assert.equal(emu.requestLog().length, 0)
})

test('limit above 100 is clamped, 2.0 is an integer, undefined means the default', async () => {
  emu.clearRequestLog()
  await client.getWebhookEvents({ limit: 250 })
  await client.getWebhookEvents({ limit: 2.0 })
  await client.getWebhookEvents({ limit: undefined })
  await client.getWebhookEvents()
  const queries = emu.requestLog().map((r) => r.query)
  assert.deepEqual(queries, ['limit=100', 'limit=2', 'limit=50', 'limit=50'])
})

test('since: seconds, negative, fractional and string values are refused; ms and Date work', async () => {
  await rejectsWith(client.getWebhookEvents({ since: 1717200000 }), InvalidArgumentError, 'INVALID_ARGUMENT', /looks like seconds/)
  await rejectsWith(client.getWebhookEvents({ since: new Date(0) }), InvalidArgumentError, 'INVALID_ARGUMENT', /got 0 \(1970-01-01T00:00:00\.000Z\); .*leave since out/)
  await rejectsWith(client.getWebhookEvents({ since: -5 }), InvalidArgumentError, 'INVALID_ARGUMENT', /non-negative/)
  await rejectsWith(client.getWebhookEvents({ since: 1717200000000.5 }), InvalidArgumentError, 'INVALID_ARGUMENT', /since/)
  await rejectsWith(client.getWebhookEvents({ since: '1717200000000' }), InvalidArgumentError, 'INVALID_ARGUMENT', /since/)
  emu.clearRequestLog()
  await client.getWebhookEvents({ since: 1717200000000 })
  await client.getWebhookEvents({ since: new Date(1717200000123) })
  const queries = emu.requestLog().map((r) => r.query)
  assert.deepEqual(queries, ['limit=50&since=1717200000000', 'limit=50&since=1717200000123'])
})

test('options that are not an object are refused', async () => {
  await rejectsWith(client.getWebhookEvents(5), InvalidArgumentError, 'INVALID_ARGUMENT', /options must be an object/)
})

test('acknowledge: empty, not an array, non-string and empty IDs are refused', async () => {
  emu.clearRequestLog()
  const message = /^eventIds must be a non-empty array$/
  await rejectsWith(client.acknowledgeWebhookEvents([]), InvalidArgumentError, 'INVALID_ARGUMENT', message)
  await rejectsWith(client.acknowledgeWebhookEvents(), InvalidArgumentError, 'INVALID_ARGUMENT', /^eventIds must be a non-empty array, got null$/)
  await rejectsWith(client.acknowledgeWebhookEvents('evt_1'), InvalidArgumentError, 'INVALID_ARGUMENT', /^eventIds must be a non-empty array, got "evt_1" \(a string\)$/)
  await rejectsWith(client.acknowledgeWebhookEvents([1]), InvalidArgumentError, 'INVALID_ARGUMENT', /eventIds\[0\] must be a non-empty string, got 1/)
  await rejectsWith(client.acknowledgeWebhookEvents(['a', null]), InvalidArgumentError, 'INVALID_ARGUMENT', /eventIds\[1\] must be a non-empty string, got null/)
  await rejectsWith(client.acknowledgeWebhookEvents(['']), InvalidArgumentError, 'INVALID_ARGUMENT', /eventIds\[0\] must be a non-empty string/)
  assert.equal(emu.requestLog().length, 0)
})

test('acknowledge sends duplicates once and unknown IDs are skipped', async () => {
  emu.clearRequestLog()
  const result = await client.acknowledgeWebhookEvents(['nope_1', 'nope_1', 'nope_2'])
  assert.deepEqual(result, { acknowledged: 0 })
  const [request] = emu.requestLog()
  assert.deepEqual(JSON.parse(request.body), { eventIds: ['nope_1', 'nope_2'] })
})

test('createSession: the platform documented messages', async () => {
  await rejectsWith(client.createSession({ users: [] , recruiterId: 'r' }), InvalidArgumentError, 'INVALID_ARGUMENT', /^users must be a non-empty array$/)
  await rejectsWith(client.createSession({ users: [{ email: 'a@b.com' }], recruiterId: 'r' }), InvalidArgumentError, 'INVALID_ARGUMENT', /name is required/)
  await rejectsWith(client.createSession({ users: [{ name: 'A' }], recruiterId: 'r' }), InvalidArgumentError, 'INVALID_ARGUMENT', /email is required/)
  await rejectsWith(
    client.createSession({ users: [{ name: 'A', email: 'a@b.com' }] }),
    InvalidArgumentError,
    'INVALID_ARGUMENT',
    /Provide at least one of recruiterId or recruiterEmail — pass one or both/,
  )
  const session = await client.createSession({ users: [{ name: 'A', email: 'a@b.com' }], recruiterEmail: 'r@b.com' })
  assert.equal(typeof session.token, 'string')
  assert.ok(session.token.split('.').length === 3, session.token)
})

test('drain, batches and run options are validated by the core', async () => {
  await rejectsWith(client.drain(async () => {}, { limit: 0 }), InvalidArgumentError, 'INVALID_ARGUMENT', /limit/)
  await rejectsWith(client.drain(async () => {}, { limt: 5 }), InvalidArgumentError, 'INVALID_ARGUMENT', /unknown drain option "limt"/)
  await rejectsWith(client.drain(async () => {}, { maxEvents: 0 }), InvalidArgumentError, 'INVALID_ARGUMENT', /maxEvents/)
  await rejectsWith(client.drain(undefined), InvalidArgumentError, 'INVALID_ARGUMENT', /handler must be a function, got undefined/)
  await rejectsWith(client.drain('nope'), InvalidArgumentError, 'INVALID_ARGUMENT', /handler must be a function, got a string/)
  await rejectsWith(client.batches({ since: 12 }).next(), InvalidArgumentError, 'INVALID_ARGUMENT', /since/)
  await rejectsWith(client.batches({ signal: 'soon' }).next(), InvalidArgumentError, 'INVALID_ARGUMENT', /^signal must be an AbortSignal, got "soon"/)
  // An explicit `signal: undefined` is no signal, as in every other options object.
  const noSignal = client.batches({ limit: 5, signal: undefined })
  assert.deepEqual(await noSignal.next(), { done: true, value: undefined })
  await rejectsWith(client.run(async () => {}, { intervalMs: -1 }), InvalidArgumentError, 'INVALID_ARGUMENT', /intervalMs/)
  await rejectsWith(client.run(async () => {}, { intervalMs: 1000, maxAttempts: 0 }), InvalidArgumentError, 'INVALID_ARGUMENT', /maxAttempts/)
  await rejectsWith(client.run(async () => {}, { intervalMs: 1000, deadLetter: 5 }), InvalidArgumentError, 'INVALID_ARGUMENT', /deadLetter must be a function/)
  // The platform's 5 s floor applies unless the client's minPollIntervalMs was lowered.
  const strict = new AssessmentClient({ apiKey: emu.apiKey, secretKey: emu.secretKey, baseUrl: emu.url })
  await rejectsWith(strict.run(async () => {}, { intervalMs: 1000 }), InvalidArgumentError, 'INVALID_ARGUMENT', /intervalMs must be at least 5000 ms \(5 s; .*\), got 1000 ms$/)
})

test('with an already-aborted signal, a bad argument is still an InvalidArgumentError, in every method', async () => {
  // A programming error must not depend on timing: arguments are checked first, then the abort.
  const strict = new AssessmentClient({ apiKey: emu.apiKey, secretKey: emu.secretKey, baseUrl: emu.url })
  const aborted = () => AbortSignal.abort(new Error('gave up'))
  const bad = {
    'fetch limit 0': () => client.getWebhookEvents({ limit: 0, signal: aborted() }),
    'fetch option misspelt': () => client.getWebhookEvents({ limt: 5, signal: aborted() }),
    'acknowledge []': () => client.acknowledgeWebhookEvents([], { signal: aborted() }),
    'acknowledge [42]': () => client.acknowledgeWebhookEvents([42], { signal: aborted() }),
    'session {}': () => client.createSession({}, { signal: aborted() }),
    'drain handler 5': () => client.drain(5, { signal: aborted() }),
    'drain maxEvents 0': () => client.drain(() => {}, { maxEvents: 0, signal: aborted() }),
    'batches limit 0': () => client.batches({ limit: 0, signal: aborted() }).next(),
    'run handler 5': () => client.run(5, { intervalMs: 5000, signal: aborted() }),
    'run intervalMs below the floor': () => strict.run(() => {}, { intervalMs: 1, signal: aborted() }),
    'run option misspelt': () => client.run(() => {}, { intervalMS: 30000, signal: aborted() }),
    'run deadLetter "x"': () => client.run(() => {}, { deadLetter: 'x', signal: aborted() }),
    'run maxAttempts 0': () => client.run(() => {}, { maxAttempts: 0, signal: aborted() }),
    'run ordered with a deadLetter hook': () => client.run(() => {}, { ordered: true, deadLetter: () => {}, signal: aborted() }),
  }
  for (const [name, call] of Object.entries(bad)) {
    const err = await call().then(
      (value) => assert.fail(`${name}: resolved with ${JSON.stringify(value)}`),
      (e) => e,
    )
    assert.ok(err instanceof InvalidArgumentError, `${name}: ${err && err.constructor.name}: ${err && err.message}`)
    assert.equal(err.code, 'INVALID_ARGUMENT', name)
  }
  // Good arguments with the same signal: the abort wins, and nothing was sent.
  emu.clearRequestLog()
  const good = {
    fetch: () => client.getWebhookEvents({ limit: 5, signal: aborted() }),
    acknowledge: () => client.acknowledgeWebhookEvents(['evt_1'], { signal: aborted() }),
    session: () => client.createSession({ users: [{ name: 'A', email: 'a@b.com' }], recruiterId: 'r' }, { signal: aborted() }),
    drain: () => client.drain(() => {}, { maxEvents: 5, signal: aborted() }),
    batches: () => client.batches({ limit: 5, signal: aborted() }).next(),
  }
  for (const [name, call] of Object.entries(good)) {
    await rejectsWith(call(), AssessmentClient.CancelledError, 'CANCELLED', /cancelled/)
  }
  assert.deepEqual(await strict.run(() => {}, { intervalMs: 5000, signal: aborted() }), { cycles: 0, events: 0, acknowledged: 0, errors: 0 })
  assert.deepEqual(emu.requestLog(), [])
})

test('configuration: missing keys, bad and insecure base URLs, unknown options', () => {
  const names = ['ASSESSMENT_API_KEY', 'ASSESSMENT_SECRET_KEY', 'ASSESSMENT_BASE_URL']
  const saved = names.map((n) => process.env[n])
  delete process.env.ASSESSMENT_API_KEY
  delete process.env.ASSESSMENT_SECRET_KEY
  delete process.env.ASSESSMENT_BASE_URL
  try {
    const throwsWith = (fn, Cls, code, pattern) =>
      assert.throws(fn, (err) => {
        assert.ok(err instanceof Cls, `expected ${Cls.name}, got ${err}`)
        assert.equal(err.code, code)
        assert.match(err.message, pattern)
        return true
      })
    throwsWith(() => new AssessmentClient({ secretKey: 's' }), ConfigurationError, 'CONFIGURATION', /^Missing API key$/)
    throwsWith(() => new AssessmentClient({ apiKey: 'wc_ak_test_0123456789' }), ConfigurationError, 'CONFIGURATION', /^Missing secret key$/)
    throwsWith(() => new AssessmentClient(), ConfigurationError, 'CONFIGURATION', /^Missing API key$/)
    // The official SDK's style with unset variables: undefined means "not given".
    throwsWith(
      () => new AssessmentClient({ apiKey: process.env.ASSESSMENT_API_KEY, secretKey: process.env.ASSESSMENT_SECRET_KEY }),
      ConfigurationError,
      'CONFIGURATION',
      /^Missing API key$/,
    )
    const keys = { apiKey: 'wc_ak_test_0123456789', secretKey: 'wc_sk_test_topsecret' }
    throwsWith(() => new AssessmentClient({ ...keys, baseUrl: 'not a url' }), ConfigurationError, 'CONFIGURATION', /base URL|baseUrl|URL/i)
    throwsWith(() => new AssessmentClient({ ...keys, baseUrl: 'ftp://example.com' }), ConfigurationError, 'CONFIGURATION', /URL|scheme|http/i)
    throwsWith(() => new AssessmentClient({ ...keys, baseUrl: 'http://example.com' }), ConfigurationError, 'CONFIGURATION', /or set allowInsecureHttp$/)
    throwsWith(() => new AssessmentClient({ ...keys, timeoutMs: 0 }), InvalidArgumentError, 'INVALID_ARGUMENT', /timeout/)
    throwsWith(() => new AssessmentClient({ ...keys, maxRetries: 1.5 }), InvalidArgumentError, 'INVALID_ARGUMENT', /maxRetries/)
    throwsWith(() => new AssessmentClient({ ...keys, apikey: 'x' }), InvalidArgumentError, 'INVALID_ARGUMENT', /unknown client option "apikey"/)
    // Loopback http is fine; other hosts need the explicit opt-in.
    assert.ok(new AssessmentClient({ ...keys, baseUrl: 'http://127.0.0.1:9' }))
    assert.ok(new AssessmentClient({ ...keys, baseUrl: 'http://localhost:9' }))
    assert.ok(new AssessmentClient({ ...keys, baseUrl: 'http://example.com', allowInsecureHttp: true }))
    // The environment variables fill in what is missing.
    process.env.ASSESSMENT_API_KEY = 'wc_ak_live_0123456789'
    process.env.ASSESSMENT_SECRET_KEY = 'wc_sk_live_secret'
    const fromEnv = new AssessmentClient()
    assert.equal(fromEnv.environment, 'live')
    assert.equal(new AssessmentClient(keys).environment, 'test')
  } finally {
    names.forEach((n, i) => {
      if (saved[i] === undefined) delete process.env[n]
      else process.env[n] = saved[i]
    })
  }
})

test('helpers refuse values of the wrong type with a typed error, not a conversion message', () => {
  const wrongType = (fn, pattern) =>
    assert.throws(fn, (err) => {
      assert.ok(err instanceof InvalidArgumentError, String(err))
      assert.match(err.message, pattern)
      assert.doesNotMatch(err.message, /Failed to convert|rust type/)
      return true
    })
  wrongType(() => AssessmentClient.maskApiKey(5), /^apiKey must be a string, got a number$/)
  wrongType(() => emu.setClockOffsetMs('x'), /^ms must be a finite number of milliseconds, got a string$/)
  wrongType(() => emu.setClockOffsetMs(NaN), /got NaN$/)
  assert.equal(AssessmentClient.maskApiKey('wc_ak_test_0123456789abcd'), 'wc_ak_test_…abcd')
})

test('setLogger refuses an unknown option by name', () => {
  const { setLogger } = AssessmentClient
  try {
    assert.throws(
      () => setLogger(console, { lvl: 'warn' }),
      (err) => err instanceof InvalidArgumentError && err.message === 'unknown setLogger option "lvl"; expected level',
    )
    assert.throws(() => setLogger(null, { level: 'warn', levle: 'x' }), /unknown setLogger option "levle"/)
    setLogger(console, { level: 'warn', __proto__: { lvl: 'inherited is not own' } })
  } finally {
    setLogger(console)
  }
})

test('setClockOffsetMs refuses fractions and values beyond 64 bits, naming them', () => {
  const refused = (ms, message) =>
    assert.throws(
      () => emu.setClockOffsetMs(ms),
      (err) => {
        assert.ok(err instanceof InvalidArgumentError, String(err))
        assert.equal(err.message, message)
        return true
      },
    )
  refused(1.5, 'ms must be a whole number of milliseconds, got 1.5')
  refused(-0.25, 'ms must be a whole number of milliseconds, got -0.25')
  refused(2 ** 64, 'ms must fit in 64 bits, got 18446744073709552000')
  refused(2 ** 63, 'ms must fit in 64 bits, got 9223372036854776000')
  assert.throws(() => emu.setClockOffsetMs(-(2 ** 80)), /ms must fit in 64 bits, got -1\.20892581961462/)
  emu.setClockOffsetMs(-60_000)
  emu.setClockOffsetMs(0)
})

test('an enqueued event holds what JSON.stringify gives: a Date as its ISO text', async () => {
  emu.reset()
  const storedAt = new Date(Date.UTC(2026, 5, 9, 10, 31, 0, 5))
  const custom = { toJSON: () => 'custom' }
  const sent = { eventId: 'evt_date', event: 'assessment.reviewed', storedAt, at: [new Date(0)], custom, map: new Map([['a', 1]]) }
  assert.equal(emu.enqueue([sent]), 1)
  const { events } = await client.getWebhookEvents()
  assert.equal(events.length, 1)
  assert.deepEqual(events[0], JSON.parse(JSON.stringify(sent)))
  assert.equal(events[0].storedAt, '2026-06-09T10:31:00.005Z')
  assert.deepEqual(events[0].at, ['1970-01-01T00:00:00.000Z'])
  emu.reset()
})

test('an enqueued event may hold a BigInt, as before (JSON.stringify alone would refuse it)', async () => {
  emu.reset()
  const big = 2n ** 60n + 1n
  assert.equal(emu.enqueue({ eventId: 'evt_big', event: 'assessment.reviewed', n: big, at: new Date(0) }), 1)
  const { events } = await client.getWebhookEvents()
  assert.equal(events[0].n, Number(big))
  assert.equal(events[0].at, '1970-01-01T00:00:00.000Z')
  // A value that contains itself is still refused, by the conversion's nesting limit.
  const loop = { eventId: 'evt_loop', event: 'assessment.reviewed' }
  loop.self = loop
  assert.throws(() => emu.enqueue([loop]), (err) => err instanceof InvalidArgumentError && /contains itself/.test(err.message))
  emu.reset()
})

test("setRateLimit(null) and Emulator.start({ rate_limit: null }) are refused, saying what to pass", async () => {
  for (const call of [() => emu.setRateLimit(null), () => emu.setRateLimit(undefined), () => emu.setRateLimit()]) {
    assert.throws(call, (err) => {
      assert.ok(err instanceof InvalidArgumentError, String(err))
      assert.match(err.message, /^setRateLimit needs a rate-limit config, got (null|undefined); pass \{ idle_poll_interval_ms: null, bucket: null \} to turn both limits off, or \{\} for the defaults$/)
      return true
    })
  }
  await assert.rejects(Emulator.start({ rate_limit: null }), (err) => {
    assert.ok(err instanceof InvalidArgumentError, String(err))
    assert.equal(
      err.message,
      'rate_limit needs a rate-limit config, got null; pass { idle_poll_interval_ms: null, bucket: null } to turn both limits off, or {} for the defaults',
    )
    return true
  })
  emu.setRateLimit({ idle_poll_interval_ms: null, bucket: null })
  emu.setRateLimit({})
  emu.setRateLimit({ idle_poll_interval_ms: null, bucket: null })
})
