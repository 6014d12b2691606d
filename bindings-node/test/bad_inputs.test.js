'use strict'
// Bad input, one table: every row must end in a clear typed error (its class and code, a
// message naming the bad value, never napi's GenericFailure) or, where the input is merely
// unusual, in success; never a crash or a hang. Rows that need a server use the real
// emulator over real HTTP.

const test = require('node:test')
const assert = require('node:assert/strict')
const net = require('node:net')
const { execFile } = require('node:child_process')
const { AssessmentClient, startEmulator, clientFor, withinMs } = require('./helpers.js')

const {
  SmartAIError, InvalidArgumentError: IA, ConfigurationError: CF, AuthenticationError, DecodeError, TimeoutError,
  NetworkError,
} = AssessmentClient

const KEY = 'wc_ak_test_0123456789'

/** A client for the row's emulator: fast, few retries. */
const client = (emu, options = {}) => clientFor(emu, { maxRetries: 1, timeoutMs: 10_000, ...options })
const fetch = (options) => (emu) => client(emu).getWebhookEvents(options)
const ack = (ids) => (emu) => client(emu).acknowledgeWebhookEvents(ids)
const session = (request) => (emu) => client(emu).createSession(request)
const build = (options) => async () => new AssessmentClient(options)
const withFault = (kind, options = {}) => (emu) => {
  emu.addFault({ endpoint: 'fetch', kind })
  return client(emu, options).getWebhookEvents()
}
const runWith = (options) => (emu) =>
  client(emu, { minPollIntervalMs: 5000 }).run(() => {}, { signal: AbortSignal.timeout(30_000), ...options })

/** A port nothing listens on: bound once, then released. */
function closedPort() {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}

const CASES = [
  // limit: ranges and types
  { name: 'limit 0', run: fetch({ limit: 0 }), error: IA, fragments: ['limit must be an integer >= 1', 'got 0'] },
  { name: 'limit negative', run: fetch({ limit: -7 }), error: IA, fragments: ['got -7'] },
  { name: 'limit a BigInt', run: fetch({ limit: 10n ** 20n }), error: IA, fragments: ['limit must fit in 64 bits', 'got 100000000000000000000n (a BigInt)'] },
  { name: 'limit a BigInt just beyond 64 bits', run: fetch({ limit: 2n ** 64n }), error: IA, fragments: ['limit must fit in 64 bits, got 18446744073709551616n (a BigInt)'] },
  { name: 'since a BigInt beyond 64 bits', run: fetch({ since: 2n ** 70n }), error: IA, fragments: ['since must fit in 64 bits, got 1180591620717411303424n (a BigInt)'] },
  { name: 'a huge BigInt is not repeated whole', run: fetch({ limit: 10n ** 500n }), error: IA, fragments: ['limit must fit in 64 bits, got a BigInt of 501 digits'] },
  { name: 'options a Map', run: fetch(new Map([['limit', 0]])), error: IA, fragments: ['options must be a plain object, got an instance of Map'] },
  { name: 'options a class instance', run: fetch(new (class FetchOpts { limit = 5 })()), error: IA, fragments: ['options must be a plain object, got an instance of FetchOpts'] },
  { name: 'options a class instance with a signal', run: fetch(Object.assign(new (class FetchOpts { limit = 5 })(), { signal: AbortSignal.timeout(30_000) })), error: IA, fragments: ['got an instance of FetchOpts'] },
  { name: 'options without a prototype are plain', run: async (emu) => { await client(emu).getWebhookEvents(Object.assign(Object.create(null), { limit: 5 })) } },
  { name: 'drain options a Set', run: (emu) => client(emu).drain(() => {}, new Set()), error: IA, fragments: ['options must be a plain object, got an instance of Set'] },
  { name: 'batches options a Map', run: (emu) => client(emu).batches(new Map([['limit', 0]])).next(), error: IA, fragments: ['got an instance of Map'] },
  { name: 'run options a Map', run: (emu) => client(emu).run(() => {}, new Map([['intervalMs', 5000]])), error: IA, fragments: ['options must be a plain object, got an instance of Map'] },
  { name: 'client options a Map', run: build(new Map([['apiKey', KEY], ['secretKey', 's']])), error: IA, fragments: ['options must be a plain object, got an instance of Map'] },
  { name: 'emulator options a Map', run: async () => AssessmentClient.Emulator.start(new Map([['initial_events', 5]])), error: IA, fragments: ['options must be a plain object, got an instance of Map'] },
  { name: 'limit a string', run: fetch({ limit: '5' }), error: IA, fragments: ['"5" (a string)'] },
  { name: 'limit a fraction', run: fetch({ limit: 1.5 }), error: IA, fragments: ['got 1.5'] },
  { name: 'limit NaN', run: fetch({ limit: NaN }), error: IA, fragments: ['limit must be a finite number, got NaN'] },
  { name: 'limit a boolean', run: fetch({ limit: true }), error: IA, fragments: ['true (a boolean)'] },
  { name: 'limit a BigInt that fits is an integer', run: async (emu) => { await client(emu).getWebhookEvents({ limit: 5n }) } },
  { name: 'a NaN inside an ID list', run: ack(['evt_1', NaN]), error: IA, fragments: ['eventIds[1] must be a finite number, got NaN'] },
  { name: 'a NaN in a session user', run: session({ users: [{ name: NaN, email: 'a@b.com' }], recruiterId: 'r' }), error: IA, fragments: ['users[0].name must be a finite number, got NaN'] },
  { name: 'limit a function', run: fetch({ limit: () => 5 }), error: IA, fragments: ['a function cannot be passed here (at limit)'] },
  { name: 'limit an object', run: fetch({ limit: { n: 5 } }), error: IA, fragments: ['limit must be', 'an object'] },
  {
    name: 'limit above the cap is clamped',
    run: async (emu) => {
      emu.generate(150)
      assert.equal((await client(emu).getWebhookEvents({ limit: Number.MAX_SAFE_INTEGER })).events.length, 100)
      // However large, beyond i64 included: a whole number above the cap is the cap.
      assert.equal((await client(emu).getWebhookEvents({ limit: 1e20 })).events.length, 100)
    },
  },
  { name: 'fetch option misspelt', run: fetch({ limt: 5 }), error: IA, fragments: ['"limt"'] },
  // since
  { name: 'since in seconds', run: fetch({ since: 1717200000 }), error: IA, fragments: ['1717200000', 'looks like seconds'] },
  { name: 'since negative', run: fetch({ since: -5 }), error: IA, fragments: ['non-negative', 'got -5'] },
  { name: 'since a string', run: fetch({ since: 'yesterday' }), error: IA, fragments: ['"yesterday" (a string)'] },
  { name: 'since Infinity', run: fetch({ since: Infinity }), error: IA, fragments: ['since must be a finite number, got Infinity'] },
  { name: 'since an invalid Date', run: fetch({ since: new Date('nope') }), error: IA, fragments: ['since must be a finite number, got NaN'] },
  // acknowledge IDs
  { name: 'no IDs', run: ack([]), error: IA, fragments: ['eventIds must be a non-empty array'] },
  { name: 'undefined as IDs', run: ack(undefined), error: IA, fragments: ['eventIds must be a non-empty array'] },
  { name: 'IDs as one string', run: ack('evt_1'), error: IA, fragments: ['eventIds must be a non-empty array, got "evt_1" (a string)'] },
  { name: 'IDs as a Set', run: ack(new Set(['evt_1'])), error: IA, fragments: ['eventIds must be a non-empty array, got an object'] },
  { name: 'acknowledge options misspelt', run: (emu) => client(emu).acknowledgeWebhookEvents(['evt_1'], { sigal: null }), error: IA, fragments: ['unknown acknowledge option "sigal"; expected signal'] },
  { name: 'acknowledge options not an object', run: (emu) => client(emu).acknowledgeWebhookEvents(['evt_1'], 5000), error: IA, fragments: ['acknowledge options must be an object, got a number'] },
  { name: 'acknowledge options a Map', run: (emu) => client(emu).acknowledgeWebhookEvents(['evt_1'], new Map([['signal', AbortSignal.abort()]])), error: IA, fragments: ['acknowledge options must be a plain object, got an instance of Map'] },
  { name: 'session options a class instance', run: (emu) => client(emu).createSession({ users: [{ name: 'A', email: 'a@example.com' }], recruiterId: 'r' }, new (class CallOpts {})()), error: IA, fragments: ['session options must be a plain object, got an instance of CallOpts'] },
  { name: 'session request key misspelt', run: session({ users: [{ name: 'A', email: 'a@example.com' }], recruiterEmail: 'r@example.com', recruiterID: 'r1' }), error: IA, fragments: ['unknown session option "recruiterID"', 'recruiterId'] },
  { name: 'session options misspelt', run: (emu) => client(emu).createSession({ users: [{ name: 'A', email: 'a@example.com' }] }, { timeout: 5 }), error: IA, fragments: ['unknown session option "timeout"'] },
  { name: 'an empty-string ID', run: ack(['evt_1', '']), error: IA, fragments: ['eventIds[1]', '""'] },
  { name: 'a number among the IDs', run: ack(['evt_1', 7]), error: IA, fragments: ['eventIds[1]', 'got 7'] },
  { name: 'a null ID', run: ack([null]), error: IA, fragments: ['eventIds[0]', 'got null'] },
  { name: 'an undefined ID is not called null', run: ack(['evt_1', undefined]), error: IA, fragments: ['undefined cannot be passed here (at eventIds[1])'] },
  { name: 'a hole in the ID list', run: ack(['evt_1', , 'evt_2']), error: IA, fragments: ['undefined cannot be passed here (at eventIds[1])'] },
  { name: 'an object ID', run: ack([{ eventId: 'evt_1' }]), error: IA, fragments: ['eventIds[0]', 'an object'] },
  { name: 'a BigInt ID', run: ack(['evt_1', 7n]), error: IA, fragments: ['eventIds[1]', 'got 7'] },
  { name: 'a function ID', run: ack(['evt_1', () => 'evt_2']), error: IA, fragments: ['a function cannot be passed here (at eventIds[1])'] },
  { name: 'a symbol ID', run: ack([Symbol('evt_1')]), error: IA, fragments: ['a symbol cannot be passed here (at eventIds[0])'] },
  {
    name: 'IDs nested too deeply',
    run: (emu) => {
      let deep = ['evt_1']
      for (let i = 0; i < 200; i++) deep = [deep]
      return client(emu).acknowledgeWebhookEvents(deep)
    },
    error: IA,
    fragments: ['eventIds is nested more than 128 levels deep (or contains itself)'],
  },
  {
    name: 'IDs nested 100 deep reach the core, which names what is wrong',
    run: (emu) => {
      let deep = ['evt_1']
      for (let i = 0; i < 99; i++) deep = [deep]
      return client(emu).acknowledgeWebhookEvents([deep])
    },
    error: IA,
    fragments: ['eventIds[0]', 'an array'],
  },
  {
    name: 'an ID list that contains itself',
    run: (emu) => {
      const ids = ['evt_1']
      ids.push(ids)
      return client(emu).acknowledgeWebhookEvents(ids)
    },
    error: IA,
    fragments: ['eventIds is nested more than 128 levels deep (or contains itself)'],
  },
  {
    name: 'an option nested too deeply is named',
    run: (emu) => {
      let deep = {}
      for (let i = 0; i < 200; i++) deep = { deep }
      return client(emu).getWebhookEvents({ since: deep })
    },
    error: IA,
    fragments: ['since is nested more than 128 levels deep (or contains itself)'],
  },
  { name: 'an ID with a lone surrogate', run: ack(['evt_1', 'evt_\ud800']), error: IA, fragments: ['eventIds[1] is not valid text (a lone surrogate)'] },
  { name: 'an ID with a lone trailing surrogate', run: ack(['\udc00evt']), error: IA, fragments: ['eventIds[0] is not valid text (a lone surrogate)'] },
  { name: 'an ID with a surrogate pair is fine', run: async (emu) => { await client(emu).acknowledgeWebhookEvents(['evt_\ud83d\ude00', 'evt_\ufffd']) } },
  { name: 'a session user name with a lone surrogate', run: session({ users: [{ name: 'A\udfff', email: 'a@b.com' }], recruiterId: 'r' }), error: IA, fragments: ['users[0].name is not valid text (a lone surrogate)'] },
  { name: 'a session key with a lone surrogate', run: session({ users: [{ name: 'A', email: 'a@b.com' }], ['recruiterId\ud800']: 'r' }), error: IA, fragments: ['a key that is not valid text (a lone surrogate)'] },
  { name: 'an API key with a lone surrogate', run: build({ apiKey: `${KEY}\ud800`, secretKey: 's' }), error: IA, fragments: ['apiKey is not valid text (a lone surrogate)'] },
  { name: 'an enqueued event with a lone surrogate', run: async (emu) => emu.enqueue([{ eventId: 'ok' }, { eventId: 'x\ud800' }]), error: IA, fragments: ['events[1].eventId is not valid text (a lone surrogate)'] },
  { name: 'an ID of 11 MB', run: ack(['x'.repeat(11 << 20)]), error: AssessmentClient.InvalidRequestError, fragments: ['HTTP 413', 'larger than 10485760 bytes'] },
  {
    name: 'odd IDs are sent and signed as they are',
    run: async (emu) => {
      const odd = 'évt_ü"\\\n/\u2028\u0001'
      emu.enqueue([{ eventId: odd, event: 'assessment.completed' }])
      assert.equal((await client(emu).acknowledgeWebhookEvents([odd])).acknowledged, 1)
    },
  },
  {
    name: '10,000 IDs go in chunks of 100',
    run: async (emu) => {
      emu.generate(150)
      const ids = [...emu.pendingIds(), ...Array.from({ length: 9850 }, (_, i) => `evt_unknown_${i}`)]
      assert.equal((await client(emu).acknowledgeWebhookEvents(ids)).acknowledged, 150)
      assert.equal(emu.requestLog().filter((r) => r.endpoint === 'acknowledge').length, 100)
      assert.deepEqual(emu.pendingIds(), [])
    },
  },
  // base URL and keys
  { name: 'base URL not a URL', run: build({ apiKey: KEY, secretKey: 's', baseUrl: 'not a url' }), error: CF, fragments: ['invalid base URL', '"not a url"'] },
  { name: 'base URL ftp', run: build({ apiKey: KEY, secretKey: 's', baseUrl: 'ftp://example.com' }), error: CF, fragments: ['"ftp://example.com"', 'ftp'] },
  { name: 'base URL plain http, remote', run: build({ apiKey: KEY, secretKey: 's', baseUrl: 'http://example.com' }), error: CF, fragments: ['insecure', 'http://example.com'] },
  { name: 'base URL empty', run: build({ apiKey: KEY, secretKey: 's', baseUrl: '' }), error: CF, fragments: ['invalid base URL', '""', 'empty'] },
  { name: 'base URL not a string', run: build({ apiKey: KEY, secretKey: 's', baseUrl: 8080 }), error: CF, fragments: ['baseUrl must be a string', 'a number'] },
  { name: 'API key empty', run: build({ apiKey: '', secretKey: 's' }), error: CF, fragments: ['API key given is empty', 'ASSESSMENT_API_KEY'] },
  { name: 'secret key blank', run: build({ apiKey: KEY, secretKey: '  ' }), error: CF, fragments: ['secret key given is empty', 'ASSESSMENT_SECRET_KEY'] },
  { name: 'missing API key', run: build({ secretKey: 's' }), error: CF, fragments: ['Missing API key'] },
  { name: 'missing secret key', run: build({ apiKey: KEY }), error: CF, fragments: ['Missing secret key'] },
  {
    name: 'wrong API key',
    run: (emu) => client(emu, { apiKey: 'wc_ak_test_not_a_real_key_0000' }).getWebhookEvents(),
    error: AuthenticationError,
    fragments: ['HTTP 401', 'Invalid API key'],
  },
  {
    name: 'wrong secret key',
    run: (emu) => client(emu, { secretKey: 'wc_sk_test_wrong' }).getWebhookEvents(),
    error: AuthenticationError,
    fragments: ['HTTP 401', 'Invalid signature'],
  },
  // what the server sends back
  { name: 'a body that is not JSON', run: withFault({ type: 'malformed_json' }), error: DecodeError, fragments: ['the body starts with'] },
  { name: 'a 10 MB body that is not JSON', run: withFault({ type: 'oversized_body', bytes: 10 << 20 }), error: DecodeError, fragments: ['{\\"events\\":[xxx'] },
  { name: 'a body above 64 MiB', run: withFault({ type: 'oversized_body', bytes: 70 << 20 }), error: DecodeError, fragments: ['larger than 67108864 bytes'] },
  {
    name: 'one event of 10 MB decodes',
    run: async (emu) => {
      emu.enqueue([{ eventId: 'evt_big', event: 'assessment.completed', score: 1, padding: 'é'.repeat(5 << 20) }])
      const { events } = await client(emu).getWebhookEvents()
      assert.deepEqual(events.map((e) => e.eventId), ['evt_big'])
      assert.equal(Buffer.byteLength(events[0].padding), 10 << 20)
    },
  },
  { name: 'a truncated body', run: withFault({ type: 'truncate' }), error: NetworkError, fragments: ['network error', 'body'] },
  {
    name: 'a 500 with a 1 MB body is quoted short',
    run: async (emu) => {
      emu.addFault({ kind: { type: 'status', status: 500, body: `<html>${'x'.repeat(1 << 20)}` } })
      const err = await client(emu).getWebhookEvents().catch((e) => e)
      assert.ok(err instanceof AssessmentClient.ServerError, String(err))
      assert.ok(err.message.startsWith('server error (HTTP 500): <html>xxx'), err.message)
      assert.ok(err.message.length < 1000, `${err.message.length} chars`)
    },
  },
  { name: 'a server that hangs', run: withFault({ type: 'hang' }, { timeoutMs: 300 }), error: TimeoutError, fragments: ['no complete response within 0.3 s'] },
  {
    name: 'connection refused',
    run: async (emu) => client(emu, { baseUrl: `http://127.0.0.1:${await closedPort()}`, maxRetries: 2 }).getWebhookEvents(),
    error: NetworkError,
    fragments: ['network error', '127.0.0.1'],
  },
  // sessions
  { name: 'session without users', run: session({ users: [], recruiterId: 'r' }), error: IA, fragments: ['users must be a non-empty array'] },
  { name: 'session without recruiter', run: session({ users: [{ name: 'A', email: 'a@b.com' }] }), error: IA, fragments: ['recruiterId or recruiterEmail'] },
  {
    name: 'session user without email',
    run: session({ users: [{ name: 'A', email: 'a@b.com' }, { name: 'B' }], recruiterId: 'r' }),
    error: IA,
    fragments: ['email is required', 'users[1]'],
  },
  { name: 'session user email a number', run: session({ users: [{ name: 'A', email: 5 }], recruiterId: 'r' }), error: IA, fragments: ['users[0].email must be a string, got 5'] },
  { name: 'session request not an object', run: session('alice'), error: IA, fragments: ['must be an object', '"alice"'] },
  {
    name: 'session recruiterId a number',
    run: session({ users: [{ name: 'A', email: 'a@b.com' }], recruiterId: 42 }),
    error: IA,
    fragments: ['recruiterId must be a string', 'got 42'],
  },
  // run and drain
  { name: 'run intervalMs below 5 s', run: runWith({ intervalMs: 1000 }), error: IA, fragments: ['intervalMs must be at least 5000 ms', 'got 1000 ms'] },
  { name: 'run intervalMs of half a millisecond', run: runWith({ intervalMs: 0.5 }), error: IA, fragments: ['at least 5000 ms', 'got 0.5 ms'] },
  { name: 'run ordered with a deadLetter hook', run: runWith({ ordered: true, deadLetter: async () => {} }), error: IA, fragments: ['deadLetter is never called when ordered is true'] },
  { name: 'run intervalMs negative', run: runWith({ intervalMs: -1 }), error: IA, fragments: ['intervalMs', '-1'] },
  { name: 'run intervalMs a string', run: runWith({ intervalMs: '5000' }), error: IA, fragments: ['intervalMs', '"5000" (a string)'] },
  { name: 'run intervalMs beyond a duration', run: runWith({ intervalMs: 1e300 }), error: IA, fragments: ['intervalMs is too large', '1e+300'] },
  { name: 'run maxAttempts 0', run: runWith({ intervalMs: 5000, maxAttempts: 0 }), error: IA, fragments: ['maxAttempts must be an integer >= 1, got 0'] },
  { name: 'run option misspelt', run: runWith({ interval_ms: 5000 }), error: IA, fragments: ['"interval_ms"'] },
  { name: 'run signal not an AbortSignal', run: (emu) => client(emu).run(() => {}, { intervalMs: 5000, signal: 'stop' }), error: IA, fragments: ['signal must be an AbortSignal', '"stop" (a string)'] },
  { name: 'fetch signal not an AbortSignal', run: (emu) => client(emu).getWebhookEvents({ signal: {} }), error: IA, fragments: ['signal must be an AbortSignal'] },
  { name: 'emulator generate -1', run: async (emu) => emu.generate(-1), error: IA, fragments: ['generate needs a non-negative integer', 'got -1'] },
  { name: 'emulator option misspelt', run: async () => AssessmentClient.Emulator.start({ rateLimit: false }), error: IA, fragments: ['unknown field `rateLimit`'] },
  { name: 'emulator key option misspelt', run: async () => AssessmentClient.Emulator.start({ keys: [{ apiKey: KEY, secret_key: 's' }] }), error: IA, fragments: ['unknown field `apiKey`'] },
  { name: 'emulator enqueue a number among events', run: async (emu) => emu.enqueue([{ eventId: 'fine' }, 1]), error: IA, fragments: ['events[1] must be a JSON object, got 1'] },
  { name: 'emulator fault with a misspelt parameter', run: async (emu) => emu.addFault({ kind: { type: 'status', status: 503, retry_afterr: '2' } }), error: IA, fragments: ['unknown field `retry_afterr`'] },
  { name: 'emulator initial_events 1e9', run: async () => AssessmentClient.Emulator.start({ initial_events: 1e9 }), error: IA, fragments: ['invalid emulator options', 'initial_events must be at most 10000000 events', 'got 1000000000'] },
  { name: 'emulator token bucket of 0 per second', run: async () => AssessmentClient.Emulator.start({ rate_limit: { bucket: { per_second: 0, burst: 5 } } }), error: IA, fragments: ['invalid emulator options', 'rate_limit.bucket.per_second'] },
  { name: 'emulator generate 1e8', run: async (emu) => emu.generate(1e8), error: IA, fragments: ['generate must be at most 10000000 events', 'got 100000000'] },
  { name: 'drain handler not a function', run: (emu) => client(emu).drain(42), error: IA, fragments: ['handler'] },
  { name: 'drain maxEvents 0', run: (emu) => client(emu).drain(() => {}, { maxEvents: 0 }), error: IA, fragments: ['>= 1, got 0'] },
  // client options
  { name: 'timeoutMs negative', run: build({ apiKey: KEY, secretKey: 's', timeoutMs: -1 }), error: IA, fragments: ['timeoutMs', 'got -1'] },
  { name: 'timeoutMs zero', run: build({ apiKey: KEY, secretKey: 's', timeoutMs: 0 }), error: IA, fragments: ['timeoutMs must be greater than 0'] },
  { name: 'timeoutMs beyond a duration', run: build({ apiKey: KEY, secretKey: 's', timeoutMs: 1e300 }), error: IA, fragments: ['timeoutMs is too large', '1e+300'] },
  { name: 'minPollIntervalMs negative', run: build({ apiKey: KEY, secretKey: 's', minPollIntervalMs: -1 }), error: IA, fragments: ['minPollIntervalMs', 'got -1'] },
  { name: 'timeoutMs NaN', run: build({ apiKey: KEY, secretKey: 's', timeoutMs: NaN }), error: IA, fragments: ['timeoutMs must be a finite number, got NaN'] },
  { name: 'maxRetries negative', run: build({ apiKey: KEY, secretKey: 's', maxRetries: -1 }), error: IA, fragments: ['maxRetries', 'got -1'] },
  { name: 'maxRetries huge', run: build({ apiKey: KEY, secretKey: 's', maxRetries: 1e6 }), error: IA, fragments: ['maxRetries', 'got 1000000'] },
  { name: 'maxRetries Infinity', run: build({ apiKey: KEY, secretKey: 's', maxRetries: Infinity }), error: IA, fragments: ['maxRetries must be a finite number, got Infinity'] },
  { name: 'allowInsecureHttp a string', run: build({ apiKey: KEY, secretKey: 's', allowInsecureHttp: 'yes' }), error: IA, fragments: ['allowInsecureHttp must be a boolean', '"yes"'] },
  { name: 'client option misspelt', run: build({ apiKey: KEY, secretKey: 's', timeOut: 5 }), error: IA, fragments: ['"timeOut"'] },
  { name: 'options not an object', run: build('wc_ak_test_0123456789'), error: IA, fragments: ['options must be an object'] },
]

test('the table is big enough and its names are unique', () => {
  assert.ok(CASES.length >= 20, `${CASES.length} rows`)
  assert.equal(new Set(CASES.map((c) => c.name)).size, CASES.length)
})

// The ASSESSMENT_* variables would fill in what the key rows leave out.
const saved = {}
test.before(() => {
  for (const name of ['ASSESSMENT_API_KEY', 'ASSESSMENT_SECRET_KEY', 'ASSESSMENT_BASE_URL']) {
    saved[name] = process.env[name]
    delete process.env[name]
  }
})
test.after(() => {
  for (const [name, value] of Object.entries(saved)) if (value !== undefined) process.env[name] = value
})

for (const row of CASES) {
  test(`bad input: ${row.name}`, async () => {
    const emu = await startEmulator()
    try {
      const outcome = await withinMs(
        Promise.resolve().then(() => row.run(emu)).then(
          (value) => ({ ok: true, value }),
          (error) => ({ ok: false, error }),
        ),
        60_000,
        row.name,
      )
      if (!row.error) {
        assert.ok(outcome.ok, `expected success, got ${outcome.error && outcome.error.stack}`)
        return
      }
      assert.ok(!outcome.ok, `expected ${row.error.name}, got success`)
      const err = outcome.error
      assert.ok(err instanceof SmartAIError, `not a SmartAIError: ${err && err.stack}`)
      assert.equal(err.constructor, row.error, `${err.constructor.name} (${err.code}): ${err.message}`)
      assert.equal(err.code, row.error.code)
      assert.notEqual(err.code, 'GenericFailure')
      for (const fragment of row.fragments) {
        assert.ok(err.message.includes(fragment), `${JSON.stringify(err.message)} does not name ${JSON.stringify(fragment)}`)
      }
    } finally {
      await emu.stop()
    }
  })
}

test('the worst rows in a separate process: it exits normally, by itself', async () => {
  const script = `
    const AssessmentClient = require('smartai-events')
    ;(async () => {
      const emu = await AssessmentClient.Emulator.start({ rate_limit: { idle_poll_interval_ms: null, bucket: null } })
      emu.addFault({ endpoint: 'fetch', remaining: 1, kind: { type: 'oversized_body', bytes: 70 << 20 } })
      emu.addFault({ endpoint: 'acknowledge', kind: { type: 'hang' } })
      const o = { ...emu.clientOptions(), maxRetries: 0 }
      const c = new AssessmentClient(o)
      const quick = new AssessmentClient({ ...o, timeoutMs: 300 })
      for (const call of [() => c.getWebhookEvents(), () => quick.acknowledgeWebhookEvents(['x']), () => c.getWebhookEvents({ limit: NaN })]) {
        await call().catch((e) => console.log(e.code))
      }
      await emu.stop()
    })()
  `
  const { error, stdout, stderr } = await new Promise((resolve) =>
    execFile(process.execPath, ['-e', script], { cwd: require('node:path').join(__dirname, '..'), timeout: 60_000 }, (error, stdout, stderr) => resolve({ error, stdout, stderr })),
  )
  assert.ifError(error, stderr)
  assert.deepEqual(stdout.split(/\s+/).filter(Boolean), ['DECODE', 'TIMEOUT', 'INVALID_ARGUMENT'])
})
