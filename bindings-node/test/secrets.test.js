'use strict'
// The secret key never shows: not in util.inspect, JSON.stringify, String() or the stack of
// any object the package hands out, whatever went wrong. The API key shows masked only.

const test = require('node:test')
const assert = require('node:assert/strict')
const net = require('node:net')
const util = require('node:util')
const AssessmentClient = require('smartai-events')
const { startEmulator, clientFor, withinMs } = require('./helpers')

function renderings(value) {
  const out = [util.inspect(value, { showHidden: true, depth: 10, getters: true }), String(value)]
  try {
    out.push(JSON.stringify(value) ?? '')
  } catch (e) {
    out.push(String(e))
  }
  if (value instanceof Error) out.push(value.stack ?? '', util.inspect(value.cause, { depth: 10 }))
  return out
}

async function failure(promise) {
  try {
    await promise
  } catch (e) {
    return e
  }
  assert.fail('expected a rejection')
}

function thrown(fn) {
  try {
    fn()
  } catch (e) {
    return e
  }
  assert.fail('expected a throw')
}

async function closedPort() {
  const server = net.createServer()
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address()
  await new Promise((resolve) => server.close(resolve))
  return port
}

test('no secret in any object, error or rendering the package produces', async () => {
  const emu = await startEmulator()
  const secret = emu.secretKey
  const apiKey = emu.apiKey
  const seen = []
  const show = (label, value) => {
    assert.ok(value !== undefined, `${label} is undefined`)
    for (const text of renderings(value)) seen.push([label, text])
  }
  // Every log record, at every level, is read too.
  const records = []
  const record = (level) => (message) => records.push([level, message])
  AssessmentClient.setLogger({ error: record('error'), warn: record('warn'), info: record('info'), debug: record('debug') }, { level: 'trace' })
  try {
    const client = clientFor(emu, { maxRetries: 1, timeoutMs: 500 })
    show('client', client)
    show('emulator', emu)
    emu.generate(12)
    const batch = await client.getWebhookEvents({ limit: 5 })
    show('batch', batch)
    show('ack', await client.acknowledgeWebhookEvents(batch.events.map((e) => e.eventId)))
    show('session', await client.createSession({ users: [{ name: 'Ada', email: 'ada@example.com' }], recruiterId: 'r1' }))
    const it = client.batches({ limit: 2 })
    show('iterator', it)
    const first = await it.next()
    show('iterator batch', first.value)
    await it.commit()
    await it.return()
    show('iterator summary', await it.summary())
    show('drain summary', await client.drain(async () => {}))
    show('health', client.health())

    emu.addFault({ endpoint: 'fetch', remaining: 2, kind: { type: 'status', status: 500 } })
    show('server error', await failure(client.getWebhookEvents()))
    emu.addFault({ endpoint: 'fetch', remaining: 1, kind: { type: 'malformed_json' } })
    show('decode error', await failure(client.getWebhookEvents()))
    emu.addFault({ endpoint: 'fetch', remaining: 2, kind: { type: 'status', status: 429, retry_after: '0' } })
    show('rate limited', await failure(client.getWebhookEvents()))
    emu.addFault({ endpoint: 'fetch', remaining: 2, kind: { type: 'hang' } })
    show('timeout', await failure(withinMs(client.getWebhookEvents(), 20000, 'a hanging fetch')))
    emu.clearFaults()
    show('invalid argument', await failure(client.getWebhookEvents({ limit: 0 })))
    show('invalid ids', await failure(client.acknowledgeWebhookEvents([])))
    emu.generate(3)
    show(
      'handler error',
      await failure(client.drain(async () => {
        throw new Error('the store refused it')
      })),
    )
    // Aborted while the server holds the request.
    emu.addFault({ endpoint: 'fetch', remaining: 1, kind: { type: 'hang' } })
    const controller = new AbortController()
    const cancelled = client.getWebhookEvents({ signal: controller.signal })
    setTimeout(() => controller.abort(), 100)
    show('cancelled', await failure(cancelled))

    const wrong = clientFor(emu, { secretKey: `${secret}x` })
    show('wrong-secret client', wrong)
    show('authentication error', await failure(wrong.getWebhookEvents()))
    const port = await closedPort()
    const unreachable = clientFor(emu, { baseUrl: `http://127.0.0.1:${port}`, maxRetries: 0 })
    show('network error', await failure(unreachable.getWebhookEvents()))
    for (const baseUrl of ['http://example.com', 'not a url', 'ftp://127.0.0.1']) {
      show(`configuration error ${baseUrl}`, thrown(() => new AssessmentClient({ apiKey, secretKey: secret, baseUrl })))
    }
    show('missing secret', thrown(() => new AssessmentClient({ apiKey, baseUrl: emu.url })))
    show('bad option', thrown(() => new AssessmentClient({ apiKey, secretKey: secret, baseUrl: emu.url, timeoutMs: -1 })))
    // A key passed where the options object belongs, as `new AssessmentClient(process.env.KEY)`.
    show('secret as options', thrown(() => new AssessmentClient(secret)))
    show('api key as options', thrown(() => new AssessmentClient(apiKey)))

    await new Promise((resolve) => setTimeout(resolve, 50))
    assert.ok(records.some(([level]) => level === 'debug'), 'debug records were produced')
    for (const [level, text] of records) seen.push([`log record (${level})`, text])
    const codes = new Set()
    for (const [label, text] of seen) {
      assert.ok(!text.includes(secret), `the secret key shows in ${label}: ${text.replaceAll(secret, '<SECRET>')}`)
      assert.ok(!text.includes(apiKey), `the full API key shows in ${label}: ${text.replaceAll(apiKey, '<API KEY>')}`)
      const code = /\b(INVALID_ARGUMENT|CONFIGURATION|AUTHENTICATION|RATE_LIMITED|SERVER|TIMEOUT|NETWORK|DECODE|HANDLER|CANCELLED)\b/.exec(text)
      if (code) codes.add(code[1])
    }
    // The renderings really were of the errors they claim to be.
    for (const code of ['INVALID_ARGUMENT', 'CONFIGURATION', 'AUTHENTICATION', 'RATE_LIMITED', 'SERVER', 'TIMEOUT', 'NETWORK', 'DECODE', 'HANDLER', 'CANCELLED']) {
      assert.ok(codes.has(code), `no ${code} error was rendered`)
    }
  } finally {
    AssessmentClient.setLogger(console)
    await emu.stop()
  }
})
