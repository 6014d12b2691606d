'use strict'
// for await over client.batches(): when each batch is acknowledged.

const test = require('node:test')
const assert = require('node:assert/strict')
const { AssessmentClient, startEmulator, clientFor, events, withinMs, requests } = require('./helpers.js')
const { CancelledError } = AssessmentClient

let emu
let client
test.before(async () => {
  emu = await startEmulator()
  client = clientFor(emu)
})
test.after(async () => {
  await emu.stop()
})
test.beforeEach(() => {
  emu.reset()
})

test('iterating to the end acknowledges every batch', async () => {
  emu.enqueue(events(7, 'all'))
  const it = client.batches({ limit: 3 })
  const sizes = []
  for await (const batch of it) {
    sizes.push(batch.events.length)
    assert.equal(typeof batch.pendingCount, 'number')
  }
  assert.deepEqual(sizes, [3, 3, 1])
  assert.deepEqual(emu.pendingIds(), [])
  assert.deepEqual(await it.summary(), { batches: 3, events: 7, acknowledged: 7, pendingCount: 0 })
})

test('asking for the next batch is what acknowledges the previous one', async () => {
  emu.enqueue(events(4, 'step'))
  const it = client.batches({ limit: 2 })
  const first = await it.next()
  assert.equal(first.done, false)
  assert.equal(emu.stats().pending, 4, 'nothing acknowledged while the body runs')
  await it.next()
  assert.deepEqual(emu.pendingIds(), ['step_0002', 'step_0003'])
  assert.deepEqual(await it.next(), { done: true, value: undefined })
  assert.deepEqual(emu.pendingIds(), [])
})

test('a next() while another is pending is refused and acknowledges nothing', async () => {
  emu.enqueue(events(4, 'two'))
  const { InvalidArgumentError } = require('..')
  const it = client.batches({ limit: 2 })
  const [first, second] = await Promise.allSettled([it.next(), it.next()])
  assert.equal(first.status, 'fulfilled')
  assert.deepEqual(first.value.value.events.map((e) => e.eventId), ['two_0000', 'two_0001'])
  assert.equal(second.status, 'rejected')
  assert.ok(second.reason instanceof InvalidArgumentError, String(second.reason))
  assert.match(second.reason.message, /before the previous next\(\) settled/)
  assert.equal(emu.stats().pending, 4, 'the batch that reached no loop body yet is not acknowledged')
  // Awaited one at a time, it goes on as usual.
  await it.next()
  assert.deepEqual(emu.pendingIds(), ['two_0002', 'two_0003'])
  await it.return()
})

test('a commit() while a next() is pending is refused and acknowledges nothing', async () => {
  emu.enqueue(events(4, 'cmt'))
  const { InvalidArgumentError } = require('..')
  const it = client.batches({ limit: 2 })
  const pending = it.next()
  await assert.rejects(it.commit(), (err) => err instanceof InvalidArgumentError && /pending next\(\)/.test(err.message))
  const first = await pending
  assert.deepEqual(first.value.events.map((e) => e.eventId), ['cmt_0000', 'cmt_0001'])
  assert.equal(emu.stats().pending, 4, 'the batch that reached no loop body yet is not acknowledged')
  // The loop body fails: nothing of that batch is acknowledged.
  await it.return()
  assert.equal(emu.stats().pending, 4)
})

test('a signal abandons a batches() iteration: a hung fetch ends at once, and the batch in hand is not acknowledged', async () => {
  emu.enqueue(events(4, 'sig'))
  const controller = new AbortController()
  const it = client.batches({ limit: 2, signal: controller.signal })
  const first = await it.next()
  assert.deepEqual(first.value.events.map((e) => e.eventId), ['sig_0000', 'sig_0001'])
  // The next fetch hangs; the loop body is not running, so only the signal can end it.
  emu.addFault({ endpoint: 'fetch', kind: { type: 'hang' }, remaining: 1 })
  const reason = new Error('shutting down')
  const pending = it.next()
  setTimeout(() => controller.abort(reason), 200)
  await assert.rejects(withinMs(pending, 10_000, 'the abandoned next()'), (err) => {
    assert.ok(err instanceof CancelledError, String(err))
    assert.equal(err.cause, reason)
    return true
  })
  // The first batch was acknowledged when the second was asked for; nothing else.
  assert.deepEqual(emu.pendingIds(), ['sig_0002', 'sig_0003'])
  assert.deepEqual(await it.next(), { done: true, value: undefined })

  // Aborted while a body runs: the next next() rejects, and that batch is not acknowledged.
  const again = new AbortController()
  const seen = []
  await assert.rejects(
    (async () => {
      for await (const batch of client.batches({ limit: 1, signal: again.signal })) {
        seen.push(batch.events[0].eventId)
        again.abort()
      }
    })(),
    CancelledError,
  )
  assert.deepEqual(seen, ['sig_0002'])
  assert.deepEqual(emu.pendingIds(), ['sig_0002', 'sig_0003'])
})

test('break acknowledges nothing of the batch in hand; earlier batches stay acknowledged', async () => {
  emu.enqueue(events(6, 'brk'))
  let n = 0
  for await (const batch of client.batches({ limit: 2 })) {
    n += 1
    if (n === 2) {
      assert.equal(batch.events[0].eventId, 'brk_0002')
      break
    }
  }
  assert.deepEqual(emu.pendingIds(), ['brk_0002', 'brk_0003', 'brk_0004', 'brk_0005'])
})

test('commit() before break keeps the finished batch', async () => {
  emu.enqueue(events(4, 'cmt'))
  const it = client.batches({ limit: 2 })
  for await (const batch of it) {
    assert.equal(batch.events.length, 2)
    await it.commit()
    break
  }
  assert.deepEqual(emu.pendingIds(), ['cmt_0002', 'cmt_0003'])
})

test('an abandoned batch is handed out again and only then acknowledged', async () => {
  emu.enqueue(events(30, 'aban'))
  const it = client.batches({ limit: 10 })
  const handed = []
  let failed = null
  for await (const batch of it) {
    const ids = batch.events.map((e) => e.eventId)
    handed.push(...ids)
    if (failed === null) {
      // Saving the first batch fails; the body catches it and goes on.
      failed = ids
      await it.abandon()
      assert.ok(failed.every((id) => emu.pendingIds().includes(id)))
    }
  }
  assert.equal(handed.filter((id) => id === failed[0]).length, 2, 'the abandoned batch came back')
  assert.deepEqual([...new Set(handed)].sort(), handed.slice(10).sort(), 'after it, every event once')
  assert.deepEqual(emu.pendingIds(), [])
  assert.equal((await it.summary()).acknowledged, 30)
})

test('an abandon() while a next() is pending is refused', async () => {
  emu.enqueue(events(2, 'abp'))
  const { InvalidArgumentError } = require('..')
  const it = client.batches({ limit: 2 })
  const pending = it.next()
  await assert.rejects(it.abandon(), (err) => err instanceof InvalidArgumentError && /pending next\(\)/.test(err.message))
  await pending
  await it.return()
})

test('a throw inside the loop acknowledges nothing of the batch in hand', async () => {
  emu.enqueue(events(4, 'thr'))
  const boom = new Error('save failed')
  await assert.rejects(async () => {
    let n = 0
    for await (const batch of client.batches({ limit: 2 })) {
      n += 1
      if (n === 2) throw boom
      assert.ok(batch)
    }
  }, (err) => err === boom)
  assert.deepEqual(emu.pendingIds(), ['thr_0002', 'thr_0003'])
})

test('an error while fetching rejects the loop with a typed error', async () => {
  emu.enqueue(events(2, 'err'))
  emu.addFault({ endpoint: 'fetch', kind: { type: 'status', status: 401 } })
  await assert.rejects(async () => {
    for await (const batch of client.batches()) assert.fail(`unexpected ${batch}`)
  }, (err) => err instanceof AssessmentClient.AuthenticationError)
})

test('a return() while a next() is pending keeps the signal: aborting still ends the pending next() at once', async () => {
  emu.enqueue(events(3, 'ret'))
  const client = clientFor(emu, { timeoutMs: 60_000, maxRetries: 0 })
  emu.addFault({ endpoint: 'fetch', kind: { type: 'hang' } })
  const controller = new AbortController()
  const reason = new Error('giving up on the platform')
  const it = client.batches({ signal: controller.signal })
  const pending = it.next()
  pending.catch(() => {})
  while (requests(emu, 'fetch').length === 0) await new Promise((resolve) => setImmediate(resolve))
  const returned = it.return()
  controller.abort(reason)
  await assert.rejects(withinMs(pending, 10_000, 'the pending next()'), (err) => err instanceof CancelledError && err.cause === reason)
  assert.deepEqual(await withinMs(returned, 10_000, 'return()'), { done: true, value: undefined })
  assert.deepEqual(await it.next(), { done: true, value: undefined })
  assert.deepEqual(emu.pendingIds(), ['ret_0000', 'ret_0001', 'ret_0002'])
  emu.clearFaults()
  await client.close()
})

test('the signal ends a commit() too: a hung acknowledge at once, and after the abort nothing is acknowledged', async () => {
  emu.enqueue(events(4, 'cms'))
  const client = clientFor(emu, { timeoutMs: 60_000, maxRetries: 0 })
  const controller = new AbortController()
  const reason = new Error('shutting down')
  const it = client.batches({ limit: 2, signal: controller.signal })
  assert.equal((await it.next()).value.events.length, 2)
  emu.addFault({ endpoint: 'acknowledge', kind: { type: 'hang' } })
  const committing = it.commit()
  committing.catch(() => {})
  while (requests(emu, 'acknowledge').length === 0) await new Promise((resolve) => setImmediate(resolve))
  controller.abort(reason)
  await assert.rejects(withinMs(committing, 10_000, 'the hung commit()'), (err) => err instanceof CancelledError && err.cause === reason)
  emu.clearFaults()
  // Once aborted, a commit() sends nothing.
  const before = requests(emu, 'acknowledge').length
  await assert.rejects(it.commit(), (err) => err instanceof CancelledError && err.cause === reason)
  assert.equal(requests(emu, 'acknowledge').length, before)
  assert.deepEqual(emu.pendingIds(), ['cms_0000', 'cms_0001', 'cms_0002', 'cms_0003'])
  await it.return()
  await client.close()
})

test('an iterator dropped without finishing does not leave its listener on a long-lived signal', async () => {
  emu.enqueue(events(20, 'gc'))
  const { getEventListeners } = require('node:events')
  require('node:v8').setFlagsFromString('--expose-gc')
  const gc = require('node:vm').runInNewContext('gc')
  const client = clientFor(emu)
  const controller = new AbortController()
  const handOut = async () => {
    const it = client.batches({ limit: 1, signal: controller.signal })
    return (await it.next()).value.events.length
  }
  for (let i = 0; i < 5; i += 1) assert.equal(await handOut(), 1)
  for (let round = 0; round < 100 && getEventListeners(controller.signal, 'abort').length > 0; round += 1) {
    gc()
    await new Promise((resolve) => setImmediate(resolve))
  }
  assert.equal(getEventListeners(controller.signal, 'abort').length, 0)
  assert.equal(emu.pendingIds().length, 20, 'nothing acknowledged')
  await client.close()
})

/** Holds the JavaScript thread (nothing native reaches it meanwhile) until `done()`, then `ms` more. */
function holdThread(done, ms) {
  while (!done()) {}
  const until = Date.now() + ms
  while (Date.now() < until) {}
}

test('a next() or commit() pending when the signal aborts rejects, even when its result was already on its way', async () => {
  // The native call can finish just before the abort, its result then reaching JavaScript
  // after it. Holding this thread until the emulator has answered (and a little more) puts
  // the abort in that window every time; the call must reject all the same.
  for (let round = 0; round < 10; round += 1) {
    emu.reset()
    emu.enqueue(events(2, `win${round}`))
    const controller = new AbortController()
    const reason = new Error('shutting down')
    const it = client.batches({ limit: 1, signal: controller.signal })
    const first = await it.next()
    assert.deepEqual(first.value.events.map((e) => e.eventId), [`win${round}_0000`])
    const fetches = requests(emu, 'fetch').length
    const pending = it.next()
    pending.catch(() => {})
    holdThread(() => requests(emu, 'fetch').length > fetches, 30)
    controller.abort(reason)
    await assert.rejects(pending, (err) => err instanceof CancelledError && err.cause === reason)
    assert.deepEqual(await it.next(), { done: true, value: undefined })
    // The first batch was finished (asking for more acknowledged it); the second reached no one.
    assert.deepEqual(emu.pendingIds(), [`win${round}_0001`])

    const again = new AbortController()
    const more = client.batches({ limit: 1, signal: again.signal })
    await more.next()
    const committing = more.commit()
    committing.catch(() => {})
    holdThread(() => emu.pendingIds().length === 0, 30)
    again.abort(reason)
    await assert.rejects(committing, (err) => err instanceof CancelledError && err.cause === reason)
    await more.return()
  }
})

test('calls pending when the client closes reject, even when their result was already on its way', async () => {
  // As with a signal: the client is closed after the native call finished but before its
  // result reached JavaScript, and the call must reject all the same.
  const closedError = (err) => err instanceof CancelledError && err.message === 'cancelled: the client was closed'
  for (let round = 0; round < 5; round += 1) {
    emu.reset()
    emu.enqueue(events(2, `cls${round}`))
    let closing = clientFor(emu)
    const it = closing.batches({ limit: 1 })
    await it.next()
    const fetches = requests(emu, 'fetch').length
    const pending = it.next()
    pending.catch(() => {})
    holdThread(() => requests(emu, 'fetch').length > fetches, 30)
    await closing.close()
    await assert.rejects(pending, closedError)
    assert.deepEqual(emu.pendingIds(), [`cls${round}_0001`], 'the batch that reached no one is not acknowledged')

    closing = clientFor(emu)
    const fetching = closing.getWebhookEvents({ limit: 1 })
    fetching.catch(() => {})
    holdThread(() => requests(emu, 'fetch').length > fetches + 1, 30)
    await closing.close()
    await assert.rejects(fetching, closedError)

    closing = clientFor(emu)
    let drained
    // The handler lets the drain finish; the thread is held until it has acknowledged. The
    // acknowledge is slowed down so that it cannot complete, and the drain's result reach
    // JavaScript, before the test holds the thread.
    emu.addFault({ endpoint: 'acknowledge', kind: { type: 'latency', ms: 300 }, remaining: 1 })
    await new Promise((resolve) => {
      drained = closing.drain(() => { setImmediate(resolve) }, { limit: 1 })
    })
    drained.catch(() => {})
    holdThread(() => emu.pendingIds().length === 0, 30)
    await closing.close()
    await assert.rejects(drained, closedError)
  }
})
