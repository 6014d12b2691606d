// A strict TypeScript consumer of the package's types (checked by `tsc --strict --noEmit`).
import AssessmentClient = require('smartai-events')
import type { WebhookEvent, DrainSummary } from 'smartai-events'

const { SmartAIError, RateLimitedError, HandlerError, Emulator } = AssessmentClient

declare const vars: { [name: string]: string | undefined }

async function main(): Promise<void> {
  const client = new AssessmentClient({
    apiKey: 'wc_ak_test_0123456789',
    secretKey: 'wc_sk_test_secret',
  })
  const env: 'test' | 'live' = client.environment

  // The official SDK's constructor as its docs write it: an unset variable is `undefined`
  // (`vars` has the type of `process.env`, without needing @types/node here).
  const fromEnv = new AssessmentClient({
    apiKey: vars['ASSESSMENT_API_KEY'],
    secretKey: vars['ASSESSMENT_SECRET_KEY'],
    baseUrl: vars['ASSESSMENT_BASE_URL'],
  })
  const maybeLimit: number | undefined = undefined
  await fromEnv.getWebhookEvents({ limit: maybeLimit, since: undefined, signal: undefined })
  await fromEnv.drain(() => {}, { maxEvents: undefined, maxBatches: undefined, signal: undefined })
  await fromEnv.run(() => {}, { intervalMs: undefined, deadLetter: undefined, signal: AbortSignal.abort() })
  await fromEnv.createSession({ users: [{ name: 'A', email: 'a@b.co' }], recruiterId: undefined, recruiterEmail: 'r@b.co' })

  // A handler may return whatever its store returns.
  const insertMany = async (rows: WebhookEvent[]): Promise<{ insertedCount: number }> => ({ insertedCount: rows.length })
  await fromEnv.drain((batch) => insertMany(batch))
  await fromEnv.run((batch) => batch.length, {
    signal: AbortSignal.abort(),
    deadLetter: async (batch, reason) => ({ parked: batch.length, reason }),
  })

  // The seed's example, typed.
  const { events, pendingCount } = await client.getWebhookEvents({ limit: 50 })
  console.log(`Got ${events.length} events, ${pendingCount} still pending`)
  if (events.length) {
    await client.acknowledgeWebhookEvents(events.map((e) => e.eventId))
  }

  for (const e of events) {
    if (e.decodeError !== undefined) {
      // A known type that does not match its shape, an event with a repeated eventId, event
      // or storedAt (of any type), or a value that is not an object at all (no type, no ID):
      // only what every event has is typed.
      const problem: string = e.decodeError
      const type: AssessmentClient.WebhookEventType | AssessmentClient.UnknownEventType | '' = e.event
      console.log(problem, type, e.eventId, JSON.stringify(e))
      continue
    }
    if (e.event === 'assessment.completed') {
      const name: string = e.candidateName
      const score: number = e.score
      const feedback: string | null | undefined = e.aiFeedback
      const violations: number | null | undefined = e.proctoring?.violationCount
      console.log(name, score, feedback, violations)
    } else if (e.event === 'assessment.sent') {
      const emails: string[] = e.candidates.map((c) => c.email)
      console.log(emails)
    } else if (e.event === 'assessment.disqualified') {
      const passed: boolean = e.passed
      console.log(passed)
    } else {
      // Only the unknown fallback is left.
      const type: string = e.event
      const anything: unknown = e['someNewField']
      console.log(type, anything)
    }
  }

  const first: WebhookEvent | undefined = events[0]
  if (first) {
    // @ts-expect-error: candidateName is not known until the type is narrowed
    const name: string = first.candidateName
    console.log(name)
    if (first.event === 'assessment.completed') {
      // @ts-expect-error: a malformed event of this type may lack it; check decodeError first
      const email: string = first.candidateEmail
      console.log(email)
    }
  }

  // @ts-expect-error: since is a number (ms) or a Date, not a string
  await client.getWebhookEvents({ since: '2026-01-01' })

  // @ts-expect-error: acknowledge takes IDs, not events
  await client.acknowledgeWebhookEvents(events)

  AssessmentClient.setLogger(console, { level: 'info' })
  AssessmentClient.setLogger({ warn: (message: string) => console.error(message) })
  AssessmentClient.setLogger(null)
  // @ts-expect-error: not a level
  AssessmentClient.setLogger(console, { level: 'verbose' })
  // @ts-expect-error: a duration in seconds is not an option; durations are in milliseconds
  new AssessmentClient({ apiKey: 'wc_ak_test_0123456789', secretKey: 's', timeout: 30 })
  await client.run(() => {}, { ordered: true, signal: AbortSignal.abort() })
  await client.drain(() => {}, { limit: 10, signal: AbortSignal.timeout(1000) })

  const summary: DrainSummary = await client.drain(async (batch) => {
    for (const e of batch) console.log(e.eventId)
  }, { limit: 100, maxEvents: 1000 })
  console.log(summary.acknowledged)

  const cancel = new AbortController()
  await client.getWebhookEvents({ limit: 5, signal: cancel.signal })
  await client.acknowledgeWebhookEvents(['evt_1'], { signal: cancel.signal })

  const it = client.batches({ limit: 10 })
  for await (const batch of it) {
    console.log(batch.events.length, batch.pendingCount)
    if (batch.events.length === 0) {
      await it.abandon()
      continue
    }
    await it.commit()
    break
  }

  const controller = new AbortController()
  const run = await client.run((batch) => {
    console.log(batch.length)
  }, {
    intervalMs: 30_000,
    signal: controller.signal,
    maxAttempts: 3,
    deadLetter: async (dead, reason) => console.log(dead.length, reason),
  })
  console.log(run.cycles)

  try {
    await client.createSession({ users: [{ name: 'A', email: 'a@b.com' }], recruiterEmail: 'r@b.com' })
  } catch (err) {
    if (err instanceof RateLimitedError) {
      const wait: number | undefined = err.retryAfterMs
      console.log(wait)
    } else if (err instanceof HandlerError) {
      console.log(err.cause)
    } else if (err instanceof SmartAIError) {
      const code: AssessmentClient.ErrorCode | 'UNKNOWN' = err.code
      console.log(code, err.status, err.requestId)
    }
  }
  try {
    await client.drain(() => {})
  } catch (err) {
    if (err instanceof AssessmentClient.TimeoutError) {
      const code: 'TIMEOUT' = err.code
      console.log(code)
    }
  }

  // The signal a handler is given is a real AbortSignal: it can be passed on to fetch,
  // combined with AbortSignal.any, and asked to throw.
  await client.drain(async (batch, { signal }) => {
    await fetch('https://db.example/upsert', { method: 'POST', body: JSON.stringify(batch), signal })
  })
  await client.run(async (_batch, ctx) => {
    ctx.signal.throwIfAborted()
    const given: AbortSignal = ctx.signal
    const both: AbortSignal = AbortSignal.any([ctx.signal, AbortSignal.timeout(5000)])
    console.log(given.reason, both.aborted)
  }, { intervalMs: 30_000 })
  // @ts-expect-error: the handler's signal is given, not settable
  await client.drain((_batch, ctx) => { ctx.signal = AbortSignal.abort() })

  // A BigInt that fits 64 bits is accepted wherever an integer is.
  new AssessmentClient({ apiKey: 'wc_ak_test_0123456789', secretKey: 's', timeoutMs: 5000n, maxRetries: 2n, minPollIntervalMs: 0n, connectTimeoutMs: 1000n })
  await client.getWebhookEvents({ limit: 50n, since: 1717200000000n })
  await client.drain(() => {}, { limit: 10n, since: 0n, maxEvents: 100n, maxBatches: 2n })
  client.batches({ limit: 10n, maxEvents: 5n })
  await client.run(() => {}, { intervalMs: 30_000n, maxAttempts: 3n, signal: AbortSignal.abort() })
  await (await Emulator.start({ initial_events: 5n, seed: 42n, retention_ms: 1000n })).stop()

  const health = await client.health()
  console.log(health.lastSuccessAt, env)

  const emu = await Emulator.start({ initial_events: 5, rate_limit: { idle_poll_interval_ms: null, bucket: null } })
  emu.addFault({ endpoint: 'acknowledge', remaining: 1, kind: { type: 'status', status: 503 } })
  const test = new AssessmentClient({ ...emu.clientOptions(), minPollIntervalMs: 0 })
  await test.close()
  // faults() gives every optional field back, unset ones as null.
  for (const rule of emu.faults()) {
    if (rule.kind.type === 'status') {
      const retryAfter: string | null | undefined = rule.kind.retry_after
      const mayBeNull: null extends typeof rule.kind.body ? true : false = true
      console.log(retryAfter, mayBeNull)
    }
  }
  // null is refused at run time: it says to pass this (limits off) or {} (defaults).
  emu.setRateLimit({ idle_poll_interval_ms: null, bucket: null })
  emu.setRateLimit({})
  // @ts-expect-error null is ambiguous (off or the defaults?), so it is not a config
  emu.setRateLimit(null)
  // @ts-expect-error likewise in the emulator's options
  await Emulator.start({ rate_limit: null })
  // A non-object event is delivered as the fallback: its ID and problem can be read.
  const batch = await test.getWebhookEvents().catch(() => ({ events: [] as AssessmentClient.WebhookEvent[] }))
  for (const e of batch.events) {
    const id: string = e.eventId
    if (e.decodeError !== undefined) console.log(id, e.decodeError.length, e.event.length)
  }
  await emu.stop()
}

void main
