'use strict'
// HTTP statuses and transport failures, injected by the emulator, mapped to typed errors.

const test = require('node:test')
const assert = require('node:assert/strict')
const util = require('node:util')
const { AssessmentClient, startEmulator, clientFor, requests, withinMs, events } = require('./helpers.js')

const E = AssessmentClient

let emu
test.before(async () => {
  emu = await startEmulator()
})
test.after(async () => {
  await emu.stop()
})
test.beforeEach(() => {
  emu.reset()
})

function checkError(err, Cls, code) {
  assert.ok(err instanceof Cls, `expected ${Cls.name}, got ${err && err.name}: ${err && err.message}`)
  assert.ok(err instanceof E.SmartAIError)
  assert.equal(err.code, code)
  assert.equal(err.name, Cls.name)
  assert.ok(!err.message.includes(emu.secretKey))
  assert.ok(!util.inspect(err).includes(emu.secretKey))
  return true
}

test('a wrong secret is an AuthenticationError, sent once (not retried)', async () => {
  const client = clientFor(emu, { secretKey: 'wc_sk_test_wrong_secret_value' })
  await assert.rejects(client.getWebhookEvents(), (err) => {
    checkError(err, E.AuthenticationError, 'AUTHENTICATION')
    assert.equal(err.status, 401)
    assert.match(err.message, /^HTTP 401 from SmartAI platform/)
    assert.equal(typeof err.requestId, 'string')
    assert.ok(!err.message.includes('wc_sk_test_wrong_secret_value'))
    return true
  })
  assert.equal(requests(emu, 'fetch').length, 1)
})

test('an unknown API key is an AuthenticationError, not retried', async () => {
  const client = clientFor(emu, { apiKey: 'wc_ak_test_unknown0000' })
  await assert.rejects(client.acknowledgeWebhookEvents(['a']), (err) => checkError(err, E.AuthenticationError, 'AUTHENTICATION'))
  assert.equal(requests(emu, 'acknowledge').length, 1)
})

test('400 is an InvalidRequestError with the server message, not retried', async () => {
  emu.addFault({ endpoint: 'fetch', kind: { type: 'status', status: 400, body: '{"error":"limit is odd"}' } })
  await assert.rejects(clientFor(emu).getWebhookEvents(), (err) => {
    checkError(err, E.InvalidRequestError, 'INVALID_REQUEST')
    assert.equal(err.status, 400)
    assert.equal(err.serverMessage, 'limit is odd')
    assert.match(err.message, /limit is odd/)
    return true
  })
  assert.equal(requests(emu, 'fetch').length, 1)
})

test('404 is a NotFoundError (a wrong base URL), not retried', async () => {
  // The emulator serves exactly the platform's paths, so a stray path is a real 404.
  const client = new AssessmentClient({ apiKey: emu.apiKey, secretKey: emu.secretKey, baseUrl: `${emu.url}/api/v1`, minPollIntervalMs: 0 })
  await assert.rejects(client.getWebhookEvents(), (err) => {
    checkError(err, E.NotFoundError, 'NOT_FOUND')
    assert.equal(err.status, 404)
    assert.match(err.message, /\/api\/v1\/api\/v1\/webhook\/events/)
    return true
  })
  assert.equal(emu.requestLog().length, 1)
})

test('an emulator with a path_prefix serves the platform under it, as a gateway would', async () => {
  const gateway = await startEmulator({ path_prefix: '/gw' })
  try {
    gateway.enqueue(events(1, 'gw'))
    const options = { apiKey: gateway.apiKey, secretKey: gateway.secretKey, minPollIntervalMs: 0 }
    const under = new AssessmentClient({ ...options, baseUrl: `${gateway.url}/gw` })
    assert.deepEqual((await under.getWebhookEvents()).events.map((e) => e.eventId), ['gw_0000'])
    const root = new AssessmentClient({ ...options, baseUrl: gateway.url })
    await assert.rejects(root.getWebhookEvents(), E.NotFoundError)
  } finally {
    await gateway.stop()
  }
})

test('429 after the last retry is a RateLimitedError carrying retryAfterMs', async () => {
  emu.addFault({ endpoint: 'fetch', kind: { type: 'status', status: 429, retry_after: '2' } })
  await assert.rejects(clientFor(emu, { maxRetries: 0 }).getWebhookEvents(), (err) => {
    checkError(err, E.RateLimitedError, 'RATE_LIMITED')
    assert.equal(err.status, 429)
    assert.equal(err.retryAfterMs, 2000)
    return true
  })
})

test('429 and 503 are retried; the same request ID is kept across attempts', async () => {
  emu.addFault({ endpoint: 'fetch', remaining: 1, kind: { type: 'status', status: 429, retry_after: '0' } })
  emu.addFault({ endpoint: 'fetch', remaining: 1, kind: { type: 'status', status: 503 } })
  emu.generate(2)
  const batch = await clientFor(emu, { maxRetries: 3 }).getWebhookEvents()
  assert.equal(batch.events.length, 2)
  const log = requests(emu, 'fetch')
  assert.deepEqual(log.map((r) => r.status), [429, 503, 200])
  assert.equal(new Set(log.map((r) => r.request_id)).size, 1)
})

for (const status of [500, 503]) {
  test(`${status} is retried, then a ServerError`, async () => {
    emu.addFault({ endpoint: 'fetch', kind: { type: 'status', status } })
    await assert.rejects(clientFor(emu, { maxRetries: 2 }).getWebhookEvents(), (err) => {
      checkError(err, E.ServerError, 'SERVER')
      assert.equal(err.status, status)
      return true
    })
    assert.equal(requests(emu, 'fetch').length, 3)
  })
}

test('a hang past the timeout is a TimeoutError', async () => {
  emu.addFault({ endpoint: 'fetch', kind: { type: 'hang' } })
  const client = clientFor(emu, { timeoutMs: 300, maxRetries: 1 })
  await withinMs(
    assert.rejects(client.getWebhookEvents(), (err) => checkError(err, E.TimeoutError, 'TIMEOUT')),
    20_000,
    'a timed-out fetch',
  )
  assert.equal(requests(emu, 'fetch').length, 2)
})

test('a connection reset is a NetworkError after the retries', async () => {
  emu.addFault({ endpoint: 'acknowledge', kind: { type: 'reset' } })
  await assert.rejects(clientFor(emu, { maxRetries: 1 }).acknowledgeWebhookEvents(['a']), (err) =>
    checkError(err, E.NetworkError, 'NETWORK'),
  )
  assert.equal(requests(emu, 'acknowledge').length, 2)
})

test('a 200 with malformed JSON is a DecodeError, not retried', async () => {
  emu.addFault({ endpoint: 'fetch', kind: { type: 'malformed_json' } })
  await assert.rejects(clientFor(emu).getWebhookEvents(), (err) => {
    checkError(err, E.DecodeError, 'DECODE')
    assert.equal(err.status, 200)
    return true
  })
  assert.equal(requests(emu, 'fetch').length, 1)
})

test('the {success, data} envelope is accepted', async () => {
  emu.generate(1)
  emu.addFault({ endpoint: 'fetch', remaining: 1, kind: { type: 'envelope' } })
  const batch = await clientFor(emu).getWebhookEvents()
  assert.equal(batch.events.length, 1)
})

test("a closed client rejects every call with the core's CancelledError; health() keeps working", async () => {
  emu.enqueue(events(2, 'cls'))
  const client = clientFor(emu)
  assert.equal((await client.getWebhookEvents()).events.length, 2)
  await client.close()
  const closed = (err) => {
    checkError(err, E.CancelledError, 'CANCELLED')
    assert.equal(err.message, 'cancelled: the client was closed')
    return true
  }
  emu.clearRequestLog()
  await assert.rejects(client.getWebhookEvents(), closed)
  await assert.rejects(client.acknowledgeWebhookEvents(['cls_0000']), closed)
  await assert.rejects(client.createSession({ users: [{ name: 'A', email: 'a@b.com' }], recruiterId: 'r' }), closed)
  await assert.rejects(client.drain(() => {}), closed)
  await assert.rejects(client.batches().next(), closed)
  await assert.rejects(client.run(() => {}, { intervalMs: 5000 }), closed)
  assert.equal(emu.requestLog().length, 0, 'nothing is sent')
  const health = await client.health()
  assert.equal(health.polls, 1)
  assert.equal(health.pendingCount, 0)
  assert.equal(typeof health.lastSuccessAt, 'string')
  assert.match(util.inspect(client), /closed: true/)
  await client.close()
})

test('close ends a held fetch, a batches iterator and a run that holds their own copies', async () => {
  emu.generate(30)
  const client = clientFor(emu)
  emu.addFault({ endpoint: 'fetch', remaining: 1, kind: { type: 'hang' } })
  const held = client.getWebhookEvents()
  const it = client.batches({ limit: 10 })
  let entered
  const inHandler = new Promise((resolve) => {
    entered = resolve
  })
  const running = client.run(async (events) => {
    entered()
    await new Promise((resolve) => setTimeout(resolve, 200))
    return events
  }, { intervalMs: 600_000, limit: 10 })
  await withinMs(inHandler, 10_000, "the run's handler")
  await client.close()
  await withinMs(
    assert.rejects(held, (err) => checkError(err, E.CancelledError, 'CANCELLED')),
    10_000,
    'the held fetch',
  )
  // The run finishes its batch, acknowledges it and stops instead of waiting 10 minutes.
  const summary = await withinMs(running, 10_000, 'the run after close')
  assert.equal(summary.events, 10)
  assert.equal(summary.acknowledged, 10)
  await withinMs(
    assert.rejects(it.next(), (err) => checkError(err, E.CancelledError, 'CANCELLED')),
    10_000,
    'the iterator',
  )
  assert.equal(emu.pendingIds().length, 20)
})

test('errors can be constructed and matched by users', () => {
  const err = new E.RateLimitedError('slow down', { status: 429, retryAfterMs: 5 })
  assert.equal(err.code, 'RATE_LIMITED')
  assert.equal(err.retryAfterMs, 5)
  assert.ok(err instanceof E.SmartAIError)
  assert.equal(new E.SmartAIError('x', { code: 'SERVER' }).code, 'SERVER')
  // Only a user's own bare SmartAIError has no code of the set; the d.ts says so.
  assert.equal(new E.SmartAIError('x').code, 'UNKNOWN')
})

test('an AbortSignal cancels a fetch while it waits out a Retry-After; nothing more is sent', async () => {
  emu.generate(2)
  emu.addFault({ endpoint: 'fetch', kind: { type: 'status', status: 503, retry_after: '2' } })
  const client = clientFor(emu, { maxRetries: 2 })
  const controller = new AbortController()
  setTimeout(() => controller.abort(), 300)
  await withinMs(
    assert.rejects(client.getWebhookEvents({ limit: 10, signal: controller.signal }), (err) =>
      checkError(err, E.CancelledError, 'CANCELLED'),
    ),
    10_000,
    'a cancelled fetch',
  )
  await new Promise((resolve) => setTimeout(resolve, 2500))
  assert.equal(requests(emu, 'fetch').length, 1)
  // The next call works.
  emu.clearFaults()
  const batch = await client.getWebhookEvents({ signal: new AbortController().signal })
  assert.equal(batch.events.length, 2)
})

test('an already aborted signal sends nothing', async () => {
  const client = clientFor(emu)
  const aborted = AbortSignal.abort()
  await assert.rejects(client.getWebhookEvents({ signal: aborted }), (err) => checkError(err, E.CancelledError, 'CANCELLED'))
  await assert.rejects(client.acknowledgeWebhookEvents(['a'], { signal: aborted }), E.CancelledError)
  await assert.rejects(
    client.createSession({ users: [{ name: 'A', email: 'a@b.com' }], recruiterId: 'r' }, { signal: aborted }),
    E.CancelledError,
  )
  assert.equal(emu.requestLog().length, 0)
  assert.deepEqual(await client.acknowledgeWebhookEvents(['a'], { signal: new AbortController().signal }), { acknowledged: 0 })
})
