'use strict'
// The package's shape, exit behaviour, secrets in inspect output, panics.

const test = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const util = require('node:util')
const { execFile } = require('node:child_process')
const { AssessmentClient, startEmulator, clientFor, withinMs, NO_RATE_LIMIT } = require('./helpers.js')

const ROOT = path.join(__dirname, '..')

function runNode(args, env = {}) {
  return new Promise((resolve) => {
    const started = Date.now()
    execFile(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ error, stdout, stderr, ms: Date.now() - started })
    })
  })
}

test('require returns the class itself, with named exports', () => {
  const exported = require('smartai-events')
  assert.equal(typeof exported, 'function')
  assert.equal(exported.name, 'AssessmentClient')
  assert.equal(exported.AssessmentClient, exported)
  assert.equal(exported.default, exported)
  for (const name of [
    'SmartAIError', 'InvalidArgumentError', 'ConfigurationError', 'AuthenticationError', 'RateLimitedError',
    'InvalidRequestError', 'NotFoundError', 'ServerError', 'TimeoutError', 'NetworkError', 'DecodeError',
    'HandlerError', 'CancelledError', 'Emulator',
  ]) {
    assert.equal(typeof exported[name], 'function', name)
  }
  assert.ok(new exported.TimeoutError('x') instanceof exported.SmartAIError)
  assert.equal(exported.CancelledError.code, 'CANCELLED')
  const { AssessmentClient: destructured, Emulator } = require('smartai-events')
  assert.equal(destructured, exported)
  assert.equal(typeof Emulator.start, 'function')
})

test('ESM import works: default and named exports', async () => {
  const { error, stdout, stderr } = await runNode([path.join(__dirname, 'fixtures', 'esm.mjs')])
  assert.ifError(error, stderr)
  assert.deepEqual(JSON.parse(stdout), { same: true, errors: true, events: 3 })
})

test('a script that used a client exits by itself, within seconds', async () => {
  const emu = await startEmulator()
  try {
    emu.generate(7)
    const { error, stdout, stderr, ms } = await runNode([path.join(__dirname, 'fixtures', 'uses-client.js')], {
      ASSESSMENT_API_KEY: emu.apiKey,
      ASSESSMENT_SECRET_KEY: emu.secretKey,
      ASSESSMENT_BASE_URL: emu.url,
    })
    assert.ifError(error, `exit after ${ms} ms: ${stderr}`)
    assert.deepEqual(JSON.parse(stdout), { first: 2, pendingCount: 5, drained: 5 })
    assert.ok(ms < 20_000, `took ${ms} ms`)
    assert.deepEqual(emu.pendingIds(), [])
  } finally {
    await emu.stop()
  }
})

test('a script that only creates a client, or fails a call, exits too', async () => {
  const script = `
    const AssessmentClient = require('smartai-events')
    const c = new AssessmentClient({ apiKey: 'wc_ak_test_0123456789', secretKey: 's', baseUrl: 'http://127.0.0.1:9', maxRetries: 0 })
    c.getWebhookEvents().catch((e) => console.log(e.code))
  `
  const { error, stdout, stderr } = await runNode(['-e', script])
  assert.ifError(error, stderr)
  assert.equal(stdout.trim(), 'NETWORK')
})

test('util.inspect(client) shows the masked API key and never the secret', async () => {
  const emu = await startEmulator()
  try {
    const client = clientFor(emu)
    const shown = util.inspect(client, { showHidden: true, depth: 10 })
    assert.ok(!shown.includes(emu.secretKey), shown)
    assert.ok(!shown.includes(emu.apiKey), shown)
    assert.match(shown, /wc_ak_test_…0001/)
    assert.match(shown, /AssessmentClient/)
    assert.ok(!JSON.stringify(client).includes(emu.secretKey))
    assert.ok(!util.inspect(emu).includes(emu.secretKey))
    assert.equal(client.environment, 'test')
    // Nor in errors, whatever goes wrong.
    const wrong = clientFor(emu, { secretKey: 'wc_sk_test_this_must_not_leak' })
    const err = await wrong.getWebhookEvents().catch((e) => e)
    assert.ok(err instanceof AssessmentClient.AuthenticationError)
    assert.ok(!util.inspect(err, { showHidden: true, depth: 10 }).includes('wc_sk_test_this_must_not_leak'))
    assert.ok(!JSON.stringify(err).includes('wc_sk_test_this_must_not_leak'))
    const bad = (() => {
      try {
        return new AssessmentClient({ apiKey: 'wc_ak_test_0123456789', secretKey: 12345678 })
      } catch (e) {
        return e
      }
    })()
    assert.ok(bad instanceof AssessmentClient.SmartAIError)
    assert.ok(!bad.message.includes('12345678'), bad.message)
  } finally {
    await emu.stop()
  }
})

test('a Rust panic becomes a JavaScript error, and the process lives on', async () => {
  const native = require('../native.js')
  assert.throws(() => native.__panicForTests(false), (err) => {
    assert.ok(err instanceof Error)
    assert.match(err.message, /panic/)
    return true
  })
  await withinMs(
    assert.rejects(native.__panicForTests(true), (err) => err instanceof Error && /panic/.test(err.message)),
    10_000,
    'an async panic',
  )
})

test('the emulator rejects bad fault rules with InvalidArgumentError', async () => {
  const emu = await startEmulator()
  try {
    assert.throws(() => emu.addFault({ kind: { type: 'explode' } }), AssessmentClient.InvalidArgumentError)
    assert.throws(() => emu.addFault({ probability: 2, kind: { type: 'reset' } }), /probability/)
    emu.setClockOffsetMs(-10 * 60 * 1000)
    const client = clientFor(emu)
    // The client learns the clock offset from the Date header and retries once.
    await client.getWebhookEvents()
    emu.setClockOffsetMs(0)
    emu.setRateLimit(NO_RATE_LIMIT)
  } finally {
    await emu.stop()
  }
  await emu.stop()
  assert.throws(() => emu.url, AssessmentClient.ConfigurationError)
})

test('a script exits by itself after a break out of batches, a handler failure, a cancelled call and a dead letter', async () => {
  const emu = await startEmulator()
  try {
    emu.generate(20)
    emu.addFault({ endpoint: 'fetch', kind: { type: 'latency', ms: 5000 }, remaining: 1 })
    const script = `
      const AssessmentClient = require('smartai-events')
      const client = new AssessmentClient({ ...${JSON.stringify(emu.clientOptions())}, minPollIntervalMs: 0 })
      ;(async () => {
        const seen = []
        // The first fetch is slow: cancel it mid-flight.
        seen.push(await client.getWebhookEvents({ signal: AbortSignal.timeout(100) }).catch((e) => e.code))
        for await (const batch of client.batches({ limit: 5 })) { void batch; break }
        seen.push(await client.drain(() => { throw new Error('boom') }).catch((e) => e.code))
        const controller = new AbortController()
        const summary = await client.run(
          (events) => { if (events.some((e) => e.eventId)) throw new Error('poison') },
          { intervalMs: 10, limit: 1, maxAttempts: 1, signal: controller.signal,
            deadLetter: () => { controller.abort() } },
        )
        seen.push(summary.cycles > 0)
        console.log(JSON.stringify(seen))
      })()
    `
    const { error, stdout, stderr, ms } = await runNode(['-e', script])
    assert.ifError(error, `exit after ${ms} ms: ${stderr}`)
    assert.deepEqual(JSON.parse(stdout), ['CANCELLED', 'HANDLER', true])
    // Nothing on stderr but the package's own warnings (to console by default), which the
    // logging bridge delivers before exit without keeping the process alive.
    const lines = stderr.trim().split('\n')
    assert.ok(lines.every((l) => l.startsWith('smartai-events: ')), stderr)
    // The drain's failure reaches its caller and is not logged too; run's are logged.
    assert.ok(!lines.some((l) => l.includes('boom')), stderr)
    assert.ok(lines.some((l) => l.startsWith('smartai-events: handler failed') && l.includes('poison')), stderr)
    assert.ok(lines.some((l) => l.startsWith('smartai-events: handing events that kept failing to the dead-letter hook')), stderr)
  } finally {
    await emu.stop()
  }
})
