// Type declarations of `smartai-events` (hand-written; the native module's generated
// declarations are in native.d.ts and are not part of the public API).
//
// `require('smartai-events')` is the `AssessmentClient` class itself, as with the official
// `@recordorg/smartai-assessment-backend`; everything else hangs off it as named exports.

declare global {
  /**
   * The `AbortSignal` of the DOM lib or `@types/node`, whichever is loaded: this adds no
   * member, it only lets these declarations name the type when neither is.
   */
  interface AbortSignal {}
}

declare namespace AssessmentClient {
  // -------------------------------------------------------------------------------------
  // Options and results

  export interface AssessmentClientOptions {
    /** `wc_ak_...`; default `process.env.ASSESSMENT_API_KEY`. */
    apiKey?: string | undefined
    /** `wc_sk_...`; default `process.env.ASSESSMENT_SECRET_KEY`. */
    secretKey?: string | undefined
    /** Default `process.env.ASSESSMENT_BASE_URL`, then `https://platform.smartai.app`. */
    baseUrl?: string | undefined
    /** Per-attempt timeout in ms (default 30000). */
    timeoutMs?: number | bigint | undefined
    /** Connect timeout in ms (default 10000). */
    connectTimeoutMs?: number | bigint | undefined
    /** Retries after the first attempt (default 3). */
    maxRetries?: number | bigint | undefined
    /** The idle-poll gate in ms (default 5000; 0 turns it off, for tests). */
    minPollIntervalMs?: number | bigint | undefined
    /** Permit `http://` to a host that is not loopback (default false). */
    allowInsecureHttp?: boolean | undefined
  }

  export interface GetWebhookEventsOptions {
    /** Events per call: an integer from 1; default 50; above 100 means 100. */
    limit?: number | bigint | undefined
    /** Only events stored after this time: Unix **milliseconds** or a `Date`. */
    since?: number | bigint | Date | undefined
    /** Abandons the call (retries and backoff included) with a `CancelledError`. */
    signal?: AbortSignalLike | undefined
  }

  export interface CallOptions {
    /** Abandons the call (retries and backoff included) with a `CancelledError`. */
    signal?: AbortSignalLike | undefined
  }

  export interface GetWebhookEventsResult {
    events: WebhookEvent[]
    /** Events still queued after this batch; more than 0 means "call again". */
    pendingCount: number
  }

  export interface AcknowledgeResult {
    /** How many events were removed (already-acknowledged IDs are not counted). */
    acknowledged: number
  }

  export interface SessionUser {
    name: string
    email: string
  }

  export interface CreateSessionOptions {
    users: SessionUser[]
    recruiterId?: string | undefined
    recruiterEmail?: string | undefined
  }

  export interface SessionToken {
    /** A JWT. */
    token: string
    /** ISO-8601, when the platform says. */
    expiresAt: string | null
  }

  export interface DrainOptions {
    /** Events per fetch (default 100, the server's cap). */
    limit?: number | bigint | undefined
    /** Only events stored after this time (Unix ms or a `Date`). */
    since?: number | bigint | Date | undefined
    /** Stop after handing out this many events. */
    maxEvents?: number | bigint | undefined
    /** Stop after this many batches. */
    maxBatches?: number | bigint | undefined
  }

  export interface DrainSummary {
    /** Batches fetched. */
    batches: number
    /** Events handed out: each once per drain, unless its batch was abandoned (then again). */
    events: number
    /**
     * Events the server confirmed as removed. An acknowledge the server applied but whose
     * answer was lost is sent again, and that retry counts 0 for them: so this can be lower
     * than what was handled, with nothing of it left in the queue.
     */
    acknowledged: number
    /** `pendingCount` of the last fetch. */
    pendingCount: number
  }

  /**
   * Handles a batch; a Promise it returns is awaited, and whatever it resolves to is ignored
   * (so `events => db.insertMany(events)` fits). Throwing or rejecting fails the batch.
   */
  export type Handler = (events: WebhookEvent[], context: HandlerContext) => unknown

  /** What a handler gets besides its events. */
  export interface HandlerContext {
    /**
     * A real `AbortSignal` (pass it on to `fetch`, `AbortSignal.any`, a database driver)
     * that aborts when the `signal` of the drain or run this batch belongs to aborts, or the
     * client is closed (with a `CancelledError` as its reason). A drain abandoned that way
     * rejects at once, while the handler may still be running; a run lets the handler
     * finish. Either way a handler may give up when it aborts: its events stay
     * unacknowledged and come back. Without the DOM lib or `@types/node` it still has the
     * members of `AbortSignalLike` and `reason`.
     */
    readonly signal: AbortSignal & AbortSignalLike & { readonly reason: unknown }
  }
  /** Receives events that kept failing, with the last failure's reason; as `Handler` for its result. */
  export type DeadLetterHook = (events: WebhookEvent[], reason: string) => unknown

  export interface RunOptions extends DrainOptions {
    /** Wait between drains in ms (default 30000; at least 5000 unless `minPollIntervalMs` was lowered). */
    intervalMs?: number | bigint | undefined
    /**
     * An `AbortSignal`: stops the poller. A fetch or wait in progress is abandoned, a handler
     * in progress finishes and its batch is acknowledged. Aborted and `close()`d as well (in
     * either order), the run no longer waits for that handler; its batch comes back. (Typed structurally, so that no
     * particular `lib` or `@types/node` is needed.)
     */
    signal?: AbortSignalLike | undefined
    /**
     * Failures of an event handed out alone after which it goes to `deadLetter` (default 5).
     * A whole batch's failure counts against none of its events: they are retried one at a time.
     */
    maxAttempts?: number | bigint | undefined
    /** Receives events that failed `maxAttempts` times; they are acknowledged once it succeeds. */
    deadLetter?: DeadLetterHook | undefined
    /**
     * Keep queue order strictly: every batch is handled whole, all or nothing, even after
     * failures, and nothing is dead-lettered (a batch that keeps failing blocks the queue).
     * By default (false) events that failed before are retried one at a time, so that one
     * poison event cannot hold back the others.
     */
    ordered?: boolean | undefined
  }

  /**
   * What a call needs of an `AbortSignal` it is given (any `AbortSignal` fits). The signal
   * the package gives a handler is a real `AbortSignal`.
   */
  export interface AbortSignalLike {
    readonly aborted: boolean
    addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void
    removeEventListener(type: 'abort', listener: () => void): void
  }

  export interface RunSummary {
    /** Drains started. */
    cycles: number
    /**
     * Events handed out, to the handler or to the dead-letter hook. An event handed out
     * again (its batch failed, or it is retried alone) counts each time.
     */
    events: number
    /**
     * Events the server confirmed as removed. An acknowledge the server applied but whose
     * answer was lost is sent again, and that retry counts 0 for them: so this can be lower
     * than what was handled, with nothing of it left in the queue.
     */
    acknowledged: number
    /**
     * Cycles that ended with an error: a fetch or acknowledge that failed after its retries, a
     * handler or dead-letter hook that failed (once per cycle), or an acknowledgement the stop
     * grace cut short. `health().errors` counts each failed call instead.
     */
    errors: number
  }

  export interface Health {
    lastSuccessAt: string | null
    lastErrorAt: string | null
    lastErrorCode: ErrorCode | null
    lastError: string | null
    polls: number
    /** `pendingCount` of the last successful fetch. */
    pendingCount: number
    /** Events a handler took: it returned (or resolved) without error. */
    eventsHandled: number
    eventsAcknowledged: number
    eventsDeadLettered: number
    /**
     * Failed calls since the client was made, each once: a fetch or acknowledge after its last
     * retry, a handler or dead-letter hook call (in `run` an event retried alone is a call of
     * its own), an acknowledgement a stopped `run` left unfinished. It can exceed a run's
     * `errors`, which counts failed cycles.
     */
    errors: number
    /**
     * Failures since the queue last moved (an acknowledge succeeded, or a fetch found nothing
     * to handle). A fetch that brings events does not end the count, so it keeps growing while
     * every batch fails in the handler or at the acknowledge; 0 when healthy.
     */
    consecutiveFailures: number
  }

  export interface Batch {
    events: WebhookEvent[]
    pendingCount: number
  }

  // -------------------------------------------------------------------------------------
  // Events: plain objects with exactly the fields the server sent.

  export interface Proctoring {
    score?: number | null
    violationCount?: number | null
    [field: string]: unknown
  }

  export interface Verification {
    imageUrl?: string | null
    [field: string]: unknown
  }

  /** The fields of `assessment.completed` and `assessment.disqualified`. */
  export interface AssessmentResultFields {
    eventId: string
    /** ISO-8601. */
    storedAt: string
    assessmentId: string
    candidateId: string
    candidateName: string
    candidateEmail: string
    assessmentName?: string | null
    jobTitle?: string | null
    score: number
    /** Documented as always 100. */
    totalMarks: number
    passMarks: number
    /** `score >= passMarks`. */
    passed: boolean
    /** `completed`, `timeout`, `abandoned` (and `submitted` has been seen). */
    status: 'completed' | 'timeout' | 'abandoned' | 'submitted' | (string & {})
    /** ISO-8601. */
    submittedAt?: string | null
    /** Whole minutes, at least 1; null when a start or submit time is missing. */
    durationMinutes?: number | null
    /** Null when first stored: generated later. */
    aiFeedback?: string | null
    reportUrl?: string | null
    skills?: string[] | null
    /** Item shape not documented. */
    questionAnswers?: unknown[] | null
    verification?: Verification | null
    proctoring?: Proctoring | null
    /** Never set on an event of this shape; see {@link MalformedEvent}. */
    readonly decodeError?: undefined
  }

  export interface AssessmentCompletedEvent extends AssessmentResultFields {
    event: 'assessment.completed'
  }

  export interface AssessmentDisqualifiedEvent extends AssessmentResultFields {
    event: 'assessment.disqualified'
  }

  export interface Candidate {
    id: string
    name: string
    email: string
  }

  export interface AssessmentSentEvent {
    event: 'assessment.sent'
    eventId: string
    /** ISO-8601. */
    storedAt: string
    assessmentId: string
    assessmentUrl?: string | null
    keyId?: string | null
    orgId?: string | null
    jobTitle?: string | null
    candidates: Candidate[]
    totalCandidates?: number | null
    /** Never set on an event of this shape; see {@link MalformedEvent}. */
    readonly decodeError?: undefined
  }

  /**
   * The `event` of a type this SDK does not know: at run time simply the string the server
   * sent. Its type is a string subtype that no literal matches, so that a check such as
   * `e.event === 'assessment.completed'` narrows the union to the known type, and the final
   * `else` leaves `UnknownEvent`. Compare an unknown type as a plain string:
   * `(e.event as string) === 'assessment.reviewed'`.
   */
  export type UnknownEventType = `${string}\u0000(unknown event type)`

  /** An event of a type this SDK does not know; every field is kept. */
  export interface UnknownEvent {
    event: UnknownEventType
    eventId: string
    storedAt?: string
    readonly decodeError?: undefined
    [field: string]: unknown
  }

  /**
   * An event of a known type that does not match that type's documented shape (a field
   * missing or of another type), or an event of any type whose `eventId`, `event` or
   * `storedAt` appears twice (its fields hold the last value, as `JSON.parse` reads them).
   * It is delivered exactly as the server sent it, so its `event` may still be a known type;
   * `decodeError` (non-enumerable, so `JSON.stringify` leaves it out) says what is wrong. Check it before narrowing on `event`, or such an event
   * reaches the typed branch with fields missing:
   *
   * ```ts
   * if (e.decodeError !== undefined) { park(e); continue }
   * if (e.event === 'assessment.completed') e.candidateEmail // string
   * ```
   */
  export interface MalformedEvent {
    event: KnownWebhookEvent['event'] | UnknownEventType
    eventId: string
    storedAt?: string
    readonly decodeError: string
    [field: string]: unknown
  }

  /**
   * What an event that is not a JSON object at all (`null`, `"text"`, `5`, an array) is
   * delivered as, so that the rest of its batch is not lost and a handler can read every
   * event's `eventId` and `decodeError`: no ID (`''`, so it cannot be acknowledged), no
   * type (`''`), and the core's `decodeError` (`'expected a JSON object, got null'`). The
   * `decodeError` and `toJSON` are non-enumerable. `JSON.stringify(event)` still gives the value exactly as the server sent it.
   */
  export interface NonObjectEvent {
    event: ''
    eventId: ''
    readonly decodeError: string
    /** The value as the server sent it (what `JSON.stringify` writes). */
    toJSON(): unknown
  }

  export type KnownWebhookEvent = AssessmentCompletedEvent | AssessmentDisqualifiedEvent | AssessmentSentEvent
  export type WebhookEvent = KnownWebhookEvent | MalformedEvent | UnknownEvent | NonObjectEvent
  export type WebhookEventType = KnownWebhookEvent['event']

  // -------------------------------------------------------------------------------------
  // Errors

  export type ErrorCode =
    | 'INVALID_ARGUMENT'
    | 'CONFIGURATION'
    | 'AUTHENTICATION'
    | 'RATE_LIMITED'
    | 'INVALID_REQUEST'
    | 'NOT_FOUND'
    | 'SERVER'
    | 'TIMEOUT'
    | 'NETWORK'
    | 'DECODE'
    | 'HANDLER'
    | 'CANCELLED'

  export interface SmartAIErrorDetails {
    code?: ErrorCode
    status?: number | null
    requestId?: string | null
    retryAfterMs?: number | null
    serverMessage?: string | null
    cause?: unknown
  }

  export class SmartAIError extends Error {
    constructor(message: string, details?: SmartAIErrorDetails)
    /**
     * The stable code, the same in Rust, Python and Node. Every error the SDK throws has
     * one of {@link ErrorCode}; `'UNKNOWN'` is only on a `SmartAIError` your own code
     * constructs without a `code` (as in Python).
     */
    readonly code: ErrorCode | 'UNKNOWN'
    /** The HTTP status, when a response came. */
    readonly status?: number
    /** The `x-request-id` of the call (the same across its retries). */
    readonly requestId?: string
    /** The server's `Retry-After`, in ms, on a `RateLimitedError`. */
    readonly retryAfterMs?: number
    /** The message the server put in its error body. */
    readonly serverMessage?: string
  }
  export class InvalidArgumentError extends SmartAIError {
    readonly code: 'INVALID_ARGUMENT'
  }
  export class ConfigurationError extends SmartAIError {
    readonly code: 'CONFIGURATION'
  }
  export class AuthenticationError extends SmartAIError {
    readonly code: 'AUTHENTICATION'
  }
  export class RateLimitedError extends SmartAIError {
    readonly code: 'RATE_LIMITED'
  }
  export class InvalidRequestError extends SmartAIError {
    readonly code: 'INVALID_REQUEST'
  }
  export class NotFoundError extends SmartAIError {
    readonly code: 'NOT_FOUND'
  }
  export class ServerError extends SmartAIError {
    readonly code: 'SERVER'
  }
  export class TimeoutError extends SmartAIError {
    readonly code: 'TIMEOUT'
  }
  export class NetworkError extends SmartAIError {
    readonly code: 'NETWORK'
  }
  export class DecodeError extends SmartAIError {
    readonly code: 'DECODE'
  }
  /** A handler (or dead-letter hook) failed; `cause` is its own error, unchanged. */
  export class HandlerError extends SmartAIError {
    readonly code: 'HANDLER'
    readonly cause: unknown
  }
  export class CancelledError extends SmartAIError {
    readonly code: 'CANCELLED'
  }

  // -------------------------------------------------------------------------------------
  // batches()

  /**
   * The async iterator of `client.batches()`.
   *
   * - Asking for the next batch (the next loop iteration) first acknowledges the previous one.
   * - Leaving the loop (`break`, `return`, or a `throw`) calls `return()`, which acknowledges
   *   nothing of the batch in hand: it comes back on a later poll (at-least-once). JavaScript
   *   does not tell the iterator *why* the loop ended, so `break` and `throw` behave the same.
   * - To keep the batch you finished before a `break`, `await it.commit()` first.
   * - With a `signal`, aborting rejects the pending or next `next()` (or `commit()`) with a
   *   `CancelledError`; the batch in hand is not acknowledged.
   */
  export class BatchIterator implements AsyncIterableIterator<Batch> {
    private constructor()
    [Symbol.asyncIterator](): BatchIterator
    next(): Promise<IteratorResult<Batch, undefined>>
    return(value?: unknown): Promise<IteratorResult<Batch, undefined>>
    /**
     * Acknowledges the batch handed out last, if not done yet. The iteration's `signal` ends
     * it as it ends `next()`: a `CancelledError`, and nothing more is sent.
     */
    commit(): Promise<void>
    /**
     * Forgets the batch handed out last without acknowledging it: the platform delivers it
     * again, and so does this iteration if it goes on (after the last batch, the iteration
     * ends and the events wait in the queue for the next poll). For a loop body that catches its own
     * error and goes on, which the iterator cannot see.
     */
    abandon(): Promise<void>
    summary(): Promise<DrainSummary>
  }

  // -------------------------------------------------------------------------------------
  // The emulator (for tests)

  export interface EmulatorApiKey {
    api_key: string
    secret_key: string
  }

  /** The emulator's `EmulatorConfig` JSON; every field is optional. */
  export interface EmulatorOptions {
    host?: string
    /** 0 (default) picks a free port. */
    port?: number | bigint
    keys?: EmulatorApiKey[]
    /** Generated events enqueued at start. */
    initial_events?: number | bigint
    seed?: number | bigint
    /** Default: both limits on. `null` is refused (off or the defaults?): pass `{ idle_poll_interval_ms: null, bucket: null }` for off. */
    rate_limit?: EmulatorRateLimit
    retention_ms?: number | bigint
    timestamp_window_ms?: number | bigint
    clock_offset_ms?: number | bigint
    /** How many of the latest acknowledged IDs `acknowledgedIds()` lists (default 100,000). */
    acknowledged_history?: number | bigint
    /**
     * Serve the platform's paths under this one, as behind a gateway (`'/gw'`: a client's
     * `baseUrl` is then `${emu.url}/gw`). By default the paths are exactly the platform's.
     */
    path_prefix?: string
  }

  /** `null` turns a limit off; a missing field takes its default. */
  export interface EmulatorRateLimit {
    idle_poll_interval_ms?: number | null
    bucket?: { per_second: number; burst: number } | null
  }

  export type EmulatorEndpoint = 'fetch' | 'acknowledge' | 'session' | 'admin' | 'other'

  export type FaultKind =
    /** `faults()` gives `retry_after` and `body` back as `null` when they were not set. */
    | { type: 'status'; status: number; retry_after?: string | null; retryAfter?: string | null; body?: string | null }
    | { type: 'latency'; ms: number }
    | { type: 'hang' }
    | { type: 'reset' }
    | { type: 'truncate' }
    | { type: 'malformed_json' }
    | { type: 'applied_but_lost' }
    | { type: 'envelope' }
    /** 200 with exactly `bytes` bytes (at most 256 MiB) that are not JSON; not applied. */
    | { type: 'oversized_body'; bytes: number }
    /** That 3xx (300–399) to `location`, with an empty body; not applied. Clients do not follow it. */
    | { type: 'redirect'; status: number; location: string }

  export interface FaultRule {
    /** Default: every endpoint. */
    endpoint?: EmulatorEndpoint | null
    /** 0..1, default 1. */
    probability?: number
    /** Apply at most this many times; default unlimited. */
    remaining?: number | null
    kind: FaultKind
  }

  export interface QueueStats {
    api_key: string
    pending: number
    enqueued_total: number
    acknowledged_total: number
    expired_total: number
    fetches: number
    events_delivered: number
    acks: number
    sessions: number
    rate_limited: number
    auth_failures: number
    oldest_pending_ms: number | null
  }

  export interface RequestLogEntry {
    at_ms: number
    method: string
    path: string
    query: string | null
    endpoint: EmulatorEndpoint
    /** 0 when the connection was dropped without a response. */
    status: number
    fault: string | null
    request_id: string | null
    api_key: string | null
    user_agent: string | null
    duration_ms: number
    body: string | null
  }

  export class Emulator {
    private constructor()
    static start(options?: EmulatorOptions | null): Promise<Emulator>
    readonly url: string
    readonly apiKey: string
    readonly secretKey: string
    /** `{ apiKey, secretKey, baseUrl }` for `new AssessmentClient(...)`. */
    clientOptions(): { apiKey: string; secretKey: string; baseUrl: string }
    /**
     * Enqueues events; returns how many were new. Each holds what `JSON.stringify` gives of
     * it (a `Date` as its ISO text), but a `BigInt` is kept exact (up to 64 bits); a string
     * with a lone surrogate, a function or `undefined` in a list is refused.
     */
    enqueue(events: object | object[]): number
    /** Enqueues `n` generated events (at most 10,000,000 per call); returns how many. */
    generate(n: number): number
    setFaults(rules: FaultRule | FaultRule[]): void
    addFault(rule: FaultRule | FaultRule[]): void
    clearFaults(): void
    faults(): FaultRule[]
    stats(): QueueStats
    pendingIds(): string[]
    /** The latest acknowledged IDs, oldest first (at most `acknowledged_history`). */
    acknowledgedIds(): string[]
    requestLog(): RequestLogEntry[]
    clearRequestLog(): void
    /** Shifts the emulator's clock: a whole number of ms within 64 bits (anything else is refused). */
    setClockOffsetMs(ms: number): void
    /**
     * `{ idle_poll_interval_ms: null, bucket: null }` turns both limits off, `{}` restores
     * the defaults; `null` is refused with an `InvalidArgumentError`, as it could mean either.
     */
    setRateLimit(config: EmulatorRateLimit): void
    reset(): void
    /**
     * Stops the server. At run time the emulator also has `Symbol.asyncDispose`, so
     * `await using emu = await Emulator.start()` works where the runtime supports it; it is
     * not declared here, so that these types need no `esnext.disposable` lib.
     */
    stop(): Promise<void>
  }

  /** Masks an API key for display: `wc_ak_test_…1234`. */
  export function maskApiKey(apiKey: string): string

  /** What `setLogger` needs of a logger; `console`, pino and winston all fit. */
  export interface Logger {
    error?(message: string): void
    warn?(message: string): void
    info?(message: string): void
    debug?(message: string): void
  }

  export type LogLevel = 'off' | 'error' | 'warn' | 'info' | 'debug' | 'trace'

  /**
   * Where the package's log records go (retries, failed polls, failing handlers): `console`
   * from `'warn'` up until this is called. `null` turns logging off. It applies to the
   * calling thread: each `Worker` has its own logger, and gets the records of its own calls.
   *
   * ```js
   * setLogger(pino(), { level: 'info' })
   * ```
   */
  export function setLogger(logger: Logger | null, options?: { level?: LogLevel }): void

  export { AssessmentClient, AssessmentClient as default }
}

declare class AssessmentClient {
  constructor(options?: AssessmentClient.AssessmentClientOptions)
  /** `"test"` for a `wc_ak_test_` key, `"live"` otherwise. */
  readonly environment: 'test' | 'live'
  getWebhookEvents(options?: AssessmentClient.GetWebhookEventsOptions): Promise<AssessmentClient.GetWebhookEventsResult>
  acknowledgeWebhookEvents(
    eventIds: readonly string[],
    options?: AssessmentClient.CallOptions,
  ): Promise<AssessmentClient.AcknowledgeResult>
  createSession(
    request: AssessmentClient.CreateSessionOptions,
    options?: AssessmentClient.CallOptions,
  ): Promise<AssessmentClient.SessionToken>
  drain(
    handler: AssessmentClient.Handler,
    options?: AssessmentClient.DrainOptions & {
      /** Abandons the drain: it rejects with a `CancelledError`, and the batch in hand is not acknowledged. */
      signal?: AssessmentClient.AbortSignalLike | undefined
    },
  ): Promise<AssessmentClient.DrainSummary>
  batches(
    options?: AssessmentClient.DrainOptions & {
      /**
       * Abandons the iteration: the pending or next `next()` rejects with a `CancelledError`
       * (its `cause` the signal's reason), and the batch in hand is not acknowledged.
       */
      signal?: AssessmentClient.AbortSignalLike | undefined
    },
  ): AssessmentClient.BatchIterator
  run(handler: AssessmentClient.Handler, options?: AssessmentClient.RunOptions): Promise<AssessmentClient.RunSummary>
  /** Polling health; it keeps working once the client is closed. */
  health(): Promise<AssessmentClient.Health>
  /**
   * Closes the client. Calls in flight and later calls reject with a `CancelledError`
   * (`'cancelled: the client was closed'`; a run stops as if its signal aborted), the signal
   * of a handler still running aborts, and `health()` keeps working.
   */
  close(): Promise<void>
  toJSON(): { apiKey: string; baseUrl: string }
}

export = AssessmentClient
