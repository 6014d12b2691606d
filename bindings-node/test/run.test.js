'use strict'
// run: the long-running poller, stopped by an AbortSignal; dead-lettering.

const test = require('node:test')
const assert = require('node:assert/strict')
const { AssessmentClient, startEmulator, clientFor, events, withinMs } = require('./helpers.js')

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

test('run drains, then stops on an AbortSignal in the middle of a long interval wait', async () => {
  emu.enqueue(events(5, 'run'))
  const client = clientFor(emu)
  const controller = new AbortController()
  const seen = []
  let drainedOnce
  const drained = new Promise((resolve) => {
    drainedOnce = resolve
  })
  const running = client.run(async (batch) => {
    seen.push(...batch.map((e) => e.eventId))
    if (seen.length === 5) drainedOnce()
  }, { intervalMs: 10 * 60 * 1000, signal: controller.signal, limit: 2 })
  await withinMs(drained, 20_000, 'the first drain')
  // Let the loop reach its 10-minute wait, then abort it.
  await new Promise((resolve) => setTimeout(resolve, 200))
  controller.abort()
  const summary = await withinMs(running, 10_000, 'run after abort')
  assert.equal(summary.events, 5)
  assert.equal(summary.acknowledged, 5)
  assert.equal(summary.cycles, 1)
  assert.deepEqual(emu.pendingIds(), [])
  const health = await client.health()
  assert.equal(health.eventsHandled, 5)
  assert.equal(health.pendingCount, 0)
  assert.equal(health.consecutiveFailures, 0)
  assert.equal(health.lastError, null)
  assert.equal(typeof health.lastSuccessAt, 'string')
  assert.ok(!Number.isNaN(Date.parse(health.lastSuccessAt)))
})

test('run with an already aborted signal returns at once', async () => {
  emu.enqueue(events(2, 'pre'))
  const summary = await withinMs(
    clientFor(emu).run(() => assert.fail('not expected'), { intervalMs: 60_000, signal: AbortSignal.abort() }),
    10_000,
    'run',
  )
  assert.deepEqual(summary, { cycles: 0, events: 0, acknowledged: 0, errors: 0 }, 'no cycle began')
  assert.equal(emu.stats().pending, 2)
})

test('run keeps polling: events enqueued later are handled on a later cycle', async () => {
  const client = clientFor(emu)
  const controller = new AbortController()
  const seen = []
  const running = client.run((batch) => {
    seen.push(...batch.map((e) => e.eventId))
    if (seen.length >= 3) controller.abort()
  }, { intervalMs: 50, signal: controller.signal })
  await new Promise((resolve) => setTimeout(resolve, 150))
  emu.enqueue(events(3, 'late'))
  const summary = await withinMs(running, 20_000, 'run')
  assert.deepEqual(seen, ['late_0000', 'late_0001', 'late_0002'])
  assert.ok(summary.cycles >= 2, JSON.stringify(summary))
  assert.deepEqual(emu.pendingIds(), [])
})

test('an event that keeps failing goes to the dead-letter hook after maxAttempts, then is acknowledged', async () => {
  emu.enqueue(events(4, 'dl'))
  const client = clientFor(emu)
  const controller = new AbortController()
  const handled = new Set()
  const attempts = new Map()
  const dead = []
  const poison = 'dl_0002'
  const running = client.run(async (batch) => {
    for (const e of batch) {
      attempts.set(e.eventId, (attempts.get(e.eventId) ?? 0) + 1)
      if (e.eventId === poison) throw new Error(`cannot store ${e.eventId}`)
      handled.add(e.eventId)
    }
  }, {
    intervalMs: 20,
    maxAttempts: 3,
    signal: controller.signal,
    deadLetter: async (events, reason) => {
      dead.push({ ids: events.map((e) => e.eventId), reason, event: events[0] })
      controller.abort()
    },
  })
  const summary = await withinMs(running, 30_000, 'run with dead-lettering')
  assert.equal(dead.length, 1)
  assert.deepEqual(dead[0].ids, [poison])
  assert.match(dead[0].reason, /cannot store dl_0002/)
  assert.equal(dead[0].event.candidateName, 'Priya Sharma')
  // Once in its batch (which only marks the batch's events as suspects), then alone maxAttempts times.
  assert.equal(attempts.get(poison), 4)
  for (const id of ['dl_0000', 'dl_0001', 'dl_0003']) assert.ok(handled.has(id), id)
  assert.ok(summary.errors >= 1)
  assert.deepEqual(emu.pendingIds(), [], 'the dead-lettered event was acknowledged')
  const health = await client.health()
  assert.equal(health.eventsDeadLettered, 1)
})

test('run ends on an error that retrying cannot fix (authentication)', async () => {
  const client = clientFor(emu, { secretKey: 'wc_sk_test_wrong' })
  await assert.rejects(
    withinMs(client.run(() => {}, { intervalMs: 50 }), 20_000, 'run'),
    (err) => err instanceof AssessmentClient.AuthenticationError,
  )
})

test('run survives transient errors', async () => {
  emu.enqueue(events(2, 'tr'))
  emu.addFault({ endpoint: 'fetch', remaining: 3, kind: { type: 'status', status: 503 } })
  const controller = new AbortController()
  const seen = []
  const summary = await withinMs(
    clientFor(emu, { maxRetries: 0 }).run((batch) => {
      seen.push(...batch)
      if (seen.length === 2) controller.abort()
    }, { intervalMs: 20, signal: controller.signal }),
    30_000,
    'run',
  )
  assert.equal(seen.length, 2)
  assert.ok(summary.errors >= 1, JSON.stringify(summary))
})

test('a failing handler and a failed poll are logged, to console by default and to the logger set', async (t) => {
  const { setLogger } = AssessmentClient
  t.after(() => setLogger(console))
  const warned = []
  const originalWarn = console.warn
  console.warn = (message) => warned.push(message)
  try {
    emu.enqueue(events(2, 'log'))
    const controller = new AbortController()
    let calls = 0
    const running = clientFor(emu).run(() => {
      calls += 1
      // Fails once, then stops the run. (A handler that fails after the stop is no failure.)
      if (calls === 1) throw new Error('the store is down')
      controller.abort()
    }, { intervalMs: 10, signal: controller.signal })
    await withinMs(running, 10_000, 'run')
    // Records cross from the runtime thread as queued calls; give them a turn of the loop.
    await new Promise((resolve) => setTimeout(resolve, 50))
  } finally {
    console.warn = originalWarn
  }
  assert.ok(
    warned.some((m) => m.startsWith('smartai-events: handler failed') && m.includes('the store is down')),
    `console.warn saw: ${JSON.stringify(warned)}`,
  )

  const records = []
  const logger = {}
  for (const level of ['error', 'warn', 'info', 'debug']) logger[level] = (message) => records.push([level, message])
  setLogger(logger, { level: 'info' })
  emu.addFault({ endpoint: 'fetch', remaining: 1, kind: { type: 'status', status: 503 } })
  emu.enqueue(events(1, 'logged'))
  const stop = new AbortController()
  await withinMs(clientFor(emu).run(() => stop.abort(), { intervalMs: 60_000, signal: stop.signal }), 10_000, 'run')
  await new Promise((resolve) => setTimeout(resolve, 50))
  assert.ok(records.some(([level, m]) => level === 'warn' && m.includes('retrying') && m.includes('503')), JSON.stringify(records))
  assert.ok(records.some(([level]) => level === 'info'), 'info records pass at level info')
  assert.ok(!records.some(([level]) => level === 'debug'), 'debug records stay out at level info')

  // Off: nothing more arrives.
  setLogger(null)
  const before = records.length
  emu.addFault({ endpoint: 'fetch', remaining: 1, kind: { type: 'status', status: 503 } })
  await clientFor(emu).drain(() => {})
  await new Promise((resolve) => setTimeout(resolve, 50))
  assert.equal(records.length, before)
})

test('setLogger refuses what is not a logger or a level, naming it', () => {
  const { setLogger, InvalidArgumentError } = AssessmentClient
  assert.throws(() => setLogger('console'), (e) => e instanceof InvalidArgumentError && /logger must be .*got a string/.test(e.message))
  assert.throws(() => setLogger(console, { level: 'verbose' }), (e) => e instanceof InvalidArgumentError && /level must be one of off, error, warn, info, debug, trace, got "verbose"/.test(e.message))
  assert.throws(() => setLogger(console, 'warn'), (e) => e instanceof InvalidArgumentError && /options must be an object/.test(e.message))
  setLogger(console)
})

test('run hands events that are not JSON objects to the handler as the fallback, and does not get stuck on them', async () => {
  const good = events(1, 'runobj')[0]
  const body = JSON.stringify({ events: [null, 'str', 5, [1], good], pendingCount: 0 })
  emu.addFault({ endpoint: 'fetch', kind: { type: 'status', status: 200, body } })
  const controller = new AbortController()
  const calls = []
  const summary = await withinMs(
    clientFor(emu, { maxRetries: 0 }).run((batch) => {
      // Reads what every event is declared to have.
      calls.push(batch.map((e) => `${e.eventId.length}:${e.decodeError ?? 'ok'}`))
      controller.abort()
    }, { intervalMs: 20, signal: controller.signal }),
    20_000,
    'the run',
  )
  emu.clearFaults()
  assert.deepEqual(calls, [[
    '0:expected a JSON object, got null',
    '0:expected a JSON object, got a string',
    '0:expected a JSON object, got a number',
    '0:expected a JSON object, got an array',
    `${good.eventId.length}:ok`,
  ]])
  assert.equal(summary.errors, 0, JSON.stringify(summary))
  assert.equal(summary.events, 5)
})

test('a run aborted and closed as well (either order) stops waiting for a handler that never settles', async () => {
  for (const closeFirst of [false, true]) {
    emu.reset()
    emu.enqueue(events(5, closeFirst ? 'cf' : 'af'))
    const client = clientFor(emu)
    const controller = new AbortController()
    let started
    const handlerStarted = new Promise((resolve) => {
      started = resolve
    })
    let settled = false
    // Kept referenced: a promise nothing can reach any more may be collected, and with it
    // the handler's call would end by itself.
    const hung = []
    const running = client
      .run(() => {
        started()
        const never = new Promise(() => {}) // ignores its signal and never settles
        hung.push(never)
        return never
      }, { signal: controller.signal })
      .finally(() => {
        settled = true
      })
    await withinMs(handlerStarted, 20_000, 'the handler starts')
    const abort = () => controller.abort()
    const close = () => client.close()
    await (closeFirst ? close : abort)()
    // One of them alone is the graceful stop: the run still waits for the handler.
    await new Promise((resolve) => setTimeout(resolve, 300))
    assert.equal(settled, false, `closeFirst=${closeFirst}: one stop alone waits for the handler`)
    await (closeFirst ? abort : close)()
    const summary = await withinMs(running, 10_000, `run after both (closeFirst=${closeFirst})`)
    assert.equal(summary.events, 5)
    assert.equal(summary.acknowledged, 0)
    assert.equal(emu.stats().pending, 5, 'nothing acknowledged')
    assert.equal(hung.length, 1)
  }
})
