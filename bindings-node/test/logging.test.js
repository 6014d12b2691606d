'use strict'
// Logging across Node environments: each Worker thread has its own logger.

const test = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const { Worker } = require('node:worker_threads')
const { AssessmentClient, startEmulator, clientFor, events, withinMs } = require('./helpers.js')

let emu
test.before(async () => {
  emu = await startEmulator()
})
test.after(async () => {
  await emu.stop()
})

/** Runs a poller whose handler throws `message` once on an event of its own: the core logs a warning. */
async function failOnce(message) {
  enqueueOne()
  let calls = 0
  const stop = new AbortController()
  const client = clientFor(emu)
  await withinMs(
    client.run(() => {
      calls += 1
      // Fails once (a warning), then succeeds and stops the run. (A handler that fails
      // after the stop is no failure, so it must not stop first.)
      if (calls === 1) throw new Error(message)
      stop.abort()
    }, { intervalMs: 10, signal: stop.signal }),
    10_000,
    'run',
  )
  await client.close()
  await new Promise((resolve) => setTimeout(resolve, 50))
}

let enqueued = 0
/** One more event (each run below acknowledges the one it was given). */
function enqueueOne() {
  enqueued += 1
  emu.enqueue(events(1, `logw${enqueued}`))
}

/** The next message from `worker` that has `key`, the records it posted meanwhile kept. */
function nextMessage(worker, key, records) {
  return withinMs(
    new Promise((resolve, reject) => {
      const onMessage = (message) => {
        if (message.record) records.push(message.record)
        if (key in message) {
          worker.off('message', onMessage)
          resolve(message)
        }
      }
      worker.on('message', onMessage)
      worker.once('error', reject)
    }),
    10_000,
    `worker message ${key}`,
  )
}

test("a Worker's logger gets its own records only, and the main thread keeps its logger through the Worker's life and after", async (t) => {
  const { setLogger } = AssessmentClient
  t.after(() => setLogger(console))
  const main = []
  const logger = {}
  for (const level of ['error', 'warn', 'info', 'debug']) logger[level] = (text) => main.push([level, text])
  setLogger(logger, { level: 'warn' })

  const inWorker = []
  const worker = new Worker(path.join(__dirname, 'fixtures', 'log_worker.js'), {
    workerData: { client: { apiKey: emu.apiKey, secretKey: emu.secretKey, baseUrl: emu.url } },
  })
  try {
    // Loading the package in the Worker and setting its logger there leave the main
    // thread's logger in place.
    await nextMessage(worker, 'ready', inWorker)
    await failOnce('the main store is down')
    enqueueOne()
    worker.postMessage({ fail: 'the worker store is down' })
    await nextMessage(worker, 'done', inWorker)
  } finally {
    await worker.terminate()
  }
  const texts = (records) => records.map(([, text]) => text).join('\n')
  assert.match(texts(main), /handler failed.*the main store is down/)
  assert.doesNotMatch(texts(main), /the worker store is down/)
  assert.match(texts(inWorker), /handler failed.*the worker store is down/)
  assert.doesNotMatch(texts(inWorker), /the main store is down/)

  // The Worker is gone; the main thread's records still reach its logger.
  main.length = 0
  await failOnce('the main store is down again')
  assert.match(texts(main), /handler failed.*the main store is down again/)
})
