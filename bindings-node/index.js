'use strict'

// The JavaScript facade of `smartai-events`.
//
// Every rule (validation, signing, retries, the idle-poll gate, drain, batches, run,
// decoding) lives in the Rust core. This file only converts: JSON text from the native
// module becomes plain objects, native errors become typed `SmartAIError`s, an
// `AbortSignal` becomes a native stop token, and JS handlers are wrapped so that their
// original error object survives as the `cause`.

const util = require('node:util')
const native = require('./native.js')

const MARKER = native.ERROR_MARKER

// ---------------------------------------------------------------------------------------
// Errors

class SmartAIError extends Error {
  /**
   * @param {string} message
   * @param {{ code?: string, status?: number | null, requestId?: string | null,
   *   retryAfterMs?: number | null, serverMessage?: string | null, cause?: unknown }} [details]
   */
  constructor(message, details = {}) {
    super(message, 'cause' in details ? { cause: details.cause } : undefined)
    this.name = new.target.name
    this.code = details.code ?? new.target.code ?? 'UNKNOWN'
    this.status = details.status ?? undefined
    this.requestId = details.requestId ?? undefined
    this.retryAfterMs = details.retryAfterMs ?? undefined
    this.serverMessage = details.serverMessage ?? undefined
  }
}

const CODES = {
  INVALID_ARGUMENT: 'InvalidArgumentError',
  CONFIGURATION: 'ConfigurationError',
  AUTHENTICATION: 'AuthenticationError',
  RATE_LIMITED: 'RateLimitedError',
  INVALID_REQUEST: 'InvalidRequestError',
  NOT_FOUND: 'NotFoundError',
  SERVER: 'ServerError',
  TIMEOUT: 'TimeoutError',
  NETWORK: 'NetworkError',
  DECODE: 'DecodeError',
  HANDLER: 'HandlerError',
  CANCELLED: 'CancelledError',
}

const errors = { SmartAIError }
const byCode = {}
for (const [code, name] of Object.entries(CODES)) {
  // A named class per code, e.g. `class RateLimitedError extends SmartAIError {}`.
  const cls = { [name]: class extends SmartAIError {} }[name]
  Object.defineProperty(cls, 'code', { value: code })
  errors[name] = cls
  byCode[code] = cls
}

/**
 * Turns an error from the native module into the matching `SmartAIError` subclass.
 * `slot` holds the original error of a failed JS handler (the `cause` of a HANDLER error).
 */
function translate(err, slot) {
  if (err instanceof SmartAIError) return err
  const message = err && typeof err.message === 'string' ? err.message : null
  if (message === null) return err
  if (message.startsWith(MARKER)) {
    let p
    try {
      p = JSON.parse(message.slice(MARKER.length))
    } catch {
      return err
    }
    const Cls = byCode[p.code] ?? SmartAIError
    const details = {
      code: p.code,
      status: p.status,
      requestId: p.requestId,
      retryAfterMs: p.retryAfterMs,
      serverMessage: p.serverMessage,
    }
    if (p.code === 'HANDLER' && slot && slot.failed) details.cause = slot.error
    return new Cls(p.message, details)
  }
  // Anything else is a bug in this package (a Rust panic, a conversion napi refused):
  // report it as a plain Error, without napi's status code.
  const plain = new Error(message)
  if (err.stack) plain.stack = `Error: ${message}\n${String(err.stack).split('\n').slice(1).join('\n')}`
  return plain
}

function callNative(fn) {
  try {
    return fn()
  } catch (err) {
    throw translate(err)
  }
}

/**
 * Parses events as the native module sends them: `{ events, pendingCount?, reason?,
 * decodeErrors? }`. An event that did not decode (`decodeErrors` by index, the core's
 * words) gets a non-enumerable `decodeError`, so `JSON.stringify(event)` is still exactly
 * the server's JSON. One that is not a JSON object at all (`null`, `"text"`, `5`, an array)
 * is delivered as the fallback the core reads it as: no `eventId` (`''`), no `event` type
 * (`''`), its `decodeError`, and a non-enumerable `toJSON` that gives back the value as sent.
 */
function unpack(text) {
  const payload = JSON.parse(text)
  const problems = payload.decodeErrors
  if (problems !== undefined) {
    delete payload.decodeErrors
    for (const [index, reason] of Object.entries(problems)) {
      const i = Number(index)
      const event = payload.events[i]
      if (isObject(event) && !Array.isArray(event)) {
        hidden(event, 'decodeError', reason)
      } else {
        const fallback = { eventId: '', event: '' }
        hidden(fallback, 'decodeError', reason)
        hidden(fallback, 'toJSON', () => event)
        payload.events[i] = fallback
      }
    }
  }
  return payload
}

/**
 * An event's values as `JSON.stringify` writes them (`toJSON()` applied, so a `Date` is its
 * ISO text, a `Map` an empty object), except that a `BigInt` is kept for the native
 * conversion, which writes it exactly. Past the conversion's nesting limit the value is
 * left as it is, so that one which contains itself is refused there, naming it.
 */
function asJsonValues(value, key, depth) {
  if (value != null && typeof value === 'object' && typeof value.toJSON === 'function') value = value.toJSON(key)
  if (value == null || typeof value !== 'object' || depth > 200) return value
  if (Array.isArray(value)) return value.map((item, i) => asJsonValues(item, String(i), depth + 1))
  const out = {}
  for (const [k, v] of Object.entries(value)) out[k] = asJsonValues(v, k, depth + 1)
  return out
}

/** Sets a property that `JSON.stringify`, `Object.keys` and spreading leave out. */
function hidden(object, key, value) {
  Object.defineProperty(object, key, { value, enumerable: false, configurable: true, writable: true })
}

function parse(text) {
  return text == null ? text : JSON.parse(text)
}

/**
 * A message for the Rust side; the error object itself stays in `slot`. Never empty: the
 * native side reads no message as success.
 */
function describe(err) {
  let text
  try {
    if (err instanceof Error) {
      text = [err.message, err.name].find((v) => typeof v === 'string' && v !== '')
    } else {
      text = String(err)
    }
  } catch {
    text = undefined
  }
  return typeof text === 'string' && text !== '' ? text : 'the handler failed'
}

/** A generator's body runs only as it is iterated: calling a handler with `yield` ran none of it. */
function isGenerator(value) {
  return (
    value !== null &&
    typeof value === 'object' &&
    typeof value.next === 'function' &&
    typeof value.throw === 'function' &&
    (Symbol.iterator in value || Symbol.asyncIterator in value) &&
    typeof value.then !== 'function'
  )
}

function fail(slot, err) {
  slot.failed = true
  slot.error = err
  return describe(err)
}

/**
 * Wraps a handler for the native module: it receives the batch as JSON text, and its
 * promise resolves to `null` on success or to the error message on failure (it never
 * rejects). A value that is not a function goes through unchanged, so the native module
 * reports it.
 */
/**
 * @param context for a handler: `{ signal }`, the second argument of each call, set by the
 *   caller once the signal is known.
 */
function bridge(fn, slot, withReason, context) {
  if (typeof fn !== 'function') return fn
  const what = withReason ? 'deadLetter' : 'handler'
  const kind = Object.prototype.toString.call(fn).slice(8, -1)
  if (kind === 'GeneratorFunction' || kind === 'AsyncGeneratorFunction') {
    throw new errors.InvalidArgumentError(
      `${what} is a generator function: it contains \`yield\`, so calling it would not run its body; a ${what} must not yield`,
    )
  }
  return (text) => {
    let result
    try {
      const payload = unpack(text)
      result = withReason ? fn(payload.events, payload.reason) : fn(payload.events, { signal: context?.signal })
    } catch (err) {
      return Promise.resolve(fail(slot, err))
    }
    let generator
    try {
      generator = isGenerator(result)
    } catch (err) {
      // A result whose properties throw when read (a getter, a Proxy): that error is the failure.
      return Promise.resolve(fail(slot, err))
    }
    if (generator) {
      const err = new TypeError(`${what} returned a generator: it contains \`yield\`, so calling it did not run its body; a ${what} must not yield`)
      return Promise.resolve(fail(slot, err))
    }
    return Promise.resolve(result).then(
      () => null,
      (err) => fail(slot, err),
    )
  }
}

/** `a number`, `null`, `an array`, `NaN`: what a value is, for a message, without its content. */
function typeName(value) {
  if (value === null || value === undefined) return String(value)
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'number') return Number.isFinite(value) ? 'a number' : String(value)
  return /^[aeiou]/.test(typeof value) ? `an ${typeof value}` : `a ${typeof value}`
}

/** The `signal` of the options of a call that takes nothing else; anything else is refused. */
function signalOnly(options, what) {
  if (options === undefined || options === null) return undefined
  if (!isObject(options) || Array.isArray(options)) {
    throw new errors.InvalidArgumentError(`${what} options must be an object, got ${typeName(options)}`)
  }
  if (!isPlainOptions(options)) {
    // A `Map` has no own keys: read as `{}`, its signal would be dropped without a word.
    const name = Object.getPrototypeOf(options)?.constructor?.name || 'a class without a name'
    throw new errors.InvalidArgumentError(`${what} options must be a plain object, got an instance of ${name}`)
  }
  const unknown = Object.keys(options).find((key) => key !== 'signal')
  if (unknown !== undefined) {
    throw new errors.InvalidArgumentError(`unknown ${what} option ${JSON.stringify(unknown)}; expected signal`)
  }
  return options.signal
}

/** A native stop token that an `AbortSignal` cancels, or `null` without a signal. */
function stopToken(signal) {
  // What a handler is given: aborted with the caller's signal, so that it can give up.
  const forHandler = new AbortController()
  const abortHandler = (reason) => forHandler.abort(reason)
  if (signal == null) return { stop: null, release() {}, handlerSignal: forHandler.signal, abortHandler }
  if (typeof signal !== 'object' || typeof signal.addEventListener !== 'function' || typeof signal.aborted !== 'boolean') {
    const got =
      typeof signal === 'string' ? `${JSON.stringify(signal.slice(0, 40))} (a string)`
        : typeof signal === 'object' ? 'an object that is not one'
          : `a ${typeof signal}`
    throw new errors.InvalidArgumentError(`signal must be an AbortSignal, got ${got}`)
  }
  const stop = new native.StopToken()
  if (signal.aborted) {
    stop.cancel()
    forHandler.abort(signal.reason)
    return { stop, release() {}, handlerSignal: forHandler.signal, abortHandler }
  }
  const onAbort = () => {
    stop.cancel()
    forHandler.abort(signal.reason)
  }
  signal.addEventListener('abort', onAbort, { once: true })
  return {
    stop,
    release: () => signal.removeEventListener('abort', onAbort),
    handlerSignal: forHandler.signal,
    abortHandler,
  }
}

/**
 * What a native call resolved to, unless it was ended from this thread before that result
 * reached JavaScript: its `signal` aborted, or `native` (the client) was closed. Then a
 * `CancelledError`, as if the abort or the close had come a moment sooner. The native side
 * hears of either at once, but a result it had just sent is still on its way to this
 * thread; the call was pending when it was ended, and ending it rejects the call in
 * progress. (A batch that `next()` brought then reaches no one, and nothing acknowledges
 * it: the iteration has ended.)
 */
async function unlessEnded(promise, signal, native) {
  const value = await promise
  if (signal != null && signal.aborted) throw new errors.CancelledError('cancelled', { code: 'CANCELLED' })
  if (native != null && native.closed) throw closedError()
  return value
}

/** The core's error for a call on a closed client (`CancelledError`, code `CANCELLED`). */
function closedError() {
  return translate(new Error(native.closedError()))
}

async function withSignal(native, signal, call, decode) {
  const { stop, release } = stopToken(signal)
  try {
    return decode(await unlessEnded(call(stop), signal, native))
  } catch (err) {
    throw withReason(translate(err), signal)
  } finally {
    release()
  }
}

/** A `CancelledError` caused by an aborted signal carries the signal's reason as `cause`. */
function withReason(err, signal) {
  if (err instanceof errors.CancelledError && signal != null && signal.aborted && err.cause === undefined) {
    Object.defineProperty(err, 'cause', { value: signal.reason, writable: true, configurable: true })
  }
  return err
}

function isObject(value) {
  return value !== null && typeof value === 'object'
}

/**
 * Whether the facade may take its own keys (`signal`, `deadLetter`) out of `options`: only
 * from a plain object, as the native side reads one. Anything else goes there whole, and
 * is refused naming what it is (a `Map` spread here would become `{}`).
 */
function isPlainOptions(value) {
  if (!isObject(value) || Array.isArray(value)) return false
  const proto = Object.getPrototypeOf(value)
  return proto === null || (Object.getPrototypeOf(proto) === null && proto.constructor?.name === 'Object')
}

// ---------------------------------------------------------------------------------------
// The client

const kNative = Symbol('smartai-events.native')

// An iterator dropped without finishing (no `return()`) takes its signal's listener with it
// when it is collected, so that a long-lived signal does not collect listeners.
const droppedIterators = new FinalizationRegistry((release) => release())

/** `release` made safe to call twice; it no longer runs once an iterator is collected. */
function releaseOnce(release) {
  let released = false
  const once = () => {
    if (released) return
    released = true
    droppedIterators.unregister(once)
    release()
  }
  return once
}
// The `abortHandler` of each drain and run in progress, which `close()` aborts.
const kHandlers = Symbol('smartai-events.handlers')

/**
 * The async iterator returned by `client.batches()`.
 *
 * - `next()` first acknowledges the batch it handed out before, then fetches the next.
 * - `return()` (called by `break`, `return` or a `throw` inside `for await`) acknowledges
 *   nothing of the batch in hand: it comes back on a later poll (at-least-once).
 * - `commit()` acknowledges the batch in hand now, e.g. right before a `break`.
 * - `abandon()` forgets the batch in hand, for a body that caught its own error and goes on.
 */
class BatchIterator {
  #native
  #error
  #finished = false
  // The iteration's signal: its native token, the listener to remove, and the signal itself.
  #stop
  #release
  #signal
  // The native client, whose close() ends the iteration.
  #client
  // A next() that has not settled: the batch it brings has reached no one yet, so a second
  // next() must not acknowledge it as finished.
  #pending = false

  constructor(nativeBatches, error, stop = { stop: null, release() {} }, signal = undefined, client = undefined) {
    this.#native = nativeBatches
    this.#client = client
    this.#error = error
    this.#stop = stop.stop
    this.#release = releaseOnce(stop.release)
    droppedIterators.register(this, this.#release, this.#release)
    this.#signal = signal
  }

  [Symbol.asyncIterator]() {
    return this
  }

  async next() {
    if (this.#pending) {
      throw new errors.InvalidArgumentError(
        'next() was called again before the previous next() settled; batches are handed out one at a ' +
          'time, and asking for the next one acknowledges the last (use for await, or await each next())',
      )
    }
    this.#pending = true
    try {
      return await this.#step()
    } finally {
      this.#pending = false
      // A return() while this call was pending left the signal wired to it; release it now.
      if (this.#finished) this.#release()
    }
  }

  async #step() {
    if (this.#error) {
      const err = this.#error
      this.#error = undefined
      this.#finish()
      throw err
    }
    if (this.#finished) return { done: true, value: undefined }
    let text
    try {
      text = await unlessEnded(this.#native.next(this.#stop), this.#signal, this.#client)
    } catch (err) {
      this.#finish()
      throw withReason(translate(err), this.#signal)
    }
    if (text === null) {
      this.#finish()
      return { done: true, value: undefined }
    }
    return { done: false, value: unpack(text) }
  }

  #finish() {
    this.#finished = true
    // A pending next() keeps the signal until it settles, so that aborting still ends it
    // (a return() called meanwhile waits for that next(), as an async generator's does).
    if (!this.#pending) this.#release()
  }

  async return(value) {
    if (!this.#finished) {
      this.#finish()
      if (this.#native) await this.#native.abandon()
    }
    return { done: true, value }
  }

  /** Acknowledges the batch handed out last, if it is not acknowledged yet. */
  async commit() {
    if (this.#pending) {
      // It would acknowledge the batch that next() is bringing, before anyone has seen it.
      throw new errors.InvalidArgumentError(
        'commit() was called before the pending next() settled; it would acknowledge a batch that no ' +
          'loop body has seen yet (await next() first)',
      )
    }
    if (!this.#native) return
    try {
      await unlessEnded(this.#native.commit(this.#stop), this.#signal, this.#client)
    } catch (err) {
      throw withReason(translate(err), this.#signal)
    }
  }

  /**
   * Forgets the batch handed out last without acknowledging it, for a loop body that caught
   * its own error and goes on: the platform delivers that batch again, and so does this
   * iteration if it goes on.
   */
  async abandon() {
    if (this.#pending) {
      throw new errors.InvalidArgumentError(
        'abandon() was called before the pending next() settled; await next() first',
      )
    }
    if (this.#native) await this.#native.abandon()
  }

  /** `{ batches, events, acknowledged, pendingCount }` so far. */
  async summary() {
    if (!this.#native) return { batches: 0, events: 0, acknowledged: 0, pendingCount: 0 }
    return JSON.parse(await this.#native.summary())
  }
}

class AssessmentClient {
  /**
   * @param {object} [options] `apiKey`, `secretKey`, `baseUrl`, `timeoutMs`, `connectTimeoutMs`,
   *   `maxRetries`, `minPollIntervalMs`, `allowInsecureHttp`. Missing keys and base URL come
   *   from `ASSESSMENT_API_KEY`, `ASSESSMENT_SECRET_KEY` and `ASSESSMENT_BASE_URL`.
   */
  constructor(options) {
    Object.defineProperty(this, kNative, { value: callNative(() => new native.NativeClient(options)) })
    Object.defineProperty(this, kHandlers, { value: new Set() })
  }

  /** `"test"` for a `wc_ak_test_` key, `"live"` otherwise. */
  get environment() {
    return this[kNative].environment
  }

  /**
   * Fetches up to `limit` events (default 50, at most 100) without removing them.
   * `signal` (an `AbortSignal`) abandons the call, retries included: `CancelledError`.
   */
  async getWebhookEvents(options) {
    let rest = options
    let signal
    if (isPlainOptions(options) && 'signal' in options) ({ signal, ...rest } = options)
    return withSignal(this[kNative], signal, (stop) => this[kNative].getWebhookEvents(rest, stop), unpack)
  }

  /** Removes events from the queue; returns `{ acknowledged }`. Options: `{ signal }`. */
  async acknowledgeWebhookEvents(eventIds, options) {
    const signal = signalOnly(options, 'acknowledge')
    return withSignal(this[kNative], signal, (stop) => this[kNative].acknowledgeWebhookEvents(eventIds, stop), JSON.parse)
  }

  /** Creates a candidate session; returns `{ token, expiresAt }`. Options: `{ signal }`. */
  async createSession(request, options) {
    const signal = signalOnly(options, 'session')
    return withSignal(this[kNative], signal, (stop) => this[kNative].createSession(request, stop), JSON.parse)
  }

  /**
   * Fetch → `await handler(events)` → acknowledge, while more is pending. A handler failure
   * acknowledges nothing of its batch and rejects with a `HandlerError` whose `cause` is the
   * handler's own error.
   */
  async drain(handler, options) {
    const slot = { failed: false, error: undefined }
    let rest = options
    let signal
    if (isPlainOptions(options) && 'signal' in options) ({ signal, ...rest } = options)
    const context = { signal: undefined }
    const bridged = bridge(handler, slot, false, context)
    const { stop, release, handlerSignal, abortHandler } = stopToken(signal)
    context.signal = handlerSignal
    this[kHandlers].add(abortHandler)
    try {
      return JSON.parse(await unlessEnded(this[kNative].drain(bridged, rest, stop), signal, this[kNative]))
    } catch (err) {
      throw withReason(translate(err, slot), signal)
    } finally {
      this[kHandlers].delete(abortHandler)
      release()
    }
  }

  /**
   * The queue as an async iterator of `{ events, pendingCount }` batches; see `BatchIterator`.
   * `signal` (an `AbortSignal`) abandons the iteration: the pending or next `next()` rejects
   * with a `CancelledError`, and the batch in hand is not acknowledged.
   */
  batches(options) {
    let rest = options
    let signal
    if (isPlainOptions(options) && 'signal' in options) ({ signal, ...rest } = options)
    let stop
    try {
      stop = stopToken(signal)
      return new BatchIterator(this[kNative].batches(rest), undefined, stop, signal, this[kNative])
    } catch (err) {
      stop?.release()
      // Reported by the first `next()`, so that `for await` sees a rejection.
      return new BatchIterator(null, err instanceof errors.SmartAIError ? err : translate(err))
    }
  }

  /**
   * Polls until `signal` aborts: drain, wait `intervalMs`, repeat. Resolves to
   * `{ cycles, events, acknowledged, errors }`.
   */
  async run(handler, options) {
    const slot = { failed: false, error: undefined }
    let rest = options
    let signal
    let deadLetter
    if (isPlainOptions(options)) {
      ;({ signal, deadLetter, ...rest } = options)
    }
    const context = { signal: undefined }
    const bridged = bridge(handler, slot, false, context)
    const bridgedDeadLetter = bridge(deadLetter, slot, true)
    const { stop, release, handlerSignal, abortHandler } = stopToken(signal ?? undefined)
    context.signal = handlerSignal
    const token = stop ?? new native.StopToken()
    this[kHandlers].add(abortHandler)
    try {
      const text = await this[kNative].run(bridged, rest, token, bridgedDeadLetter)
      return JSON.parse(text)
    } catch (err) {
      throw translate(err, slot)
    } finally {
      this[kHandlers].delete(abortHandler)
      release()
    }
  }

  /** Polling health: last success, last error, counters; also once the client is closed. */
  async health() {
    return JSON.parse(callNative(() => this[kNative].health()))
  }

  /**
   * Closes the client: calls in flight and later calls reject with a `CancelledError`
   * (`'cancelled: the client was closed'`), and `health()` keeps working. The signal of a
   * handler still running (given as its second argument) aborts with that error as its reason.
   */
  async close() {
    this[kNative].close()
    const handlers = [...this[kHandlers]]
    this[kHandlers].clear()
    for (const abortHandler of handlers) abortHandler(closedError())
  }

  [util.inspect.custom](depth, options, inspect) {
    const fields = {
      apiKey: this[kNative].maskedApiKey,
      baseUrl: this[kNative].baseUrl,
      environment: this[kNative].environment,
    }
    if (this[kNative].closed) fields.closed = true
    return `AssessmentClient ${inspect(fields, options)}`
  }

  toJSON() {
    return { apiKey: this[kNative].maskedApiKey, baseUrl: this[kNative].baseUrl }
  }
}

// ---------------------------------------------------------------------------------------
// The emulator

/**
 * The in-process SmartAI emulator, for tests. Options, fault rules, `stats()` and
 * `requestLog()` use the emulator's JSON shapes (snake_case keys), as its admin API does.
 */
class Emulator {
  #native

  constructor(nativeEmulator) {
    if (!nativeEmulator) throw new TypeError('use `await Emulator.start(options)`')
    this.#native = nativeEmulator
  }

  /** Starts an emulator on a free loopback port. */
  static async start(options) {
    if (typeof native.startEmulator !== 'function') {
      throw new Error('this build of smartai-events has no emulator')
    }
    try {
      return new Emulator(await native.startEmulator(options))
    } catch (err) {
      throw translate(err)
    }
  }

  get url() {
    return callNative(() => this.#native.url)
  }

  get apiKey() {
    return callNative(() => this.#native.apiKey)
  }

  get secretKey() {
    return callNative(() => this.#native.secretKey)
  }

  /** `{ apiKey, secretKey, baseUrl }`, ready for `new AssessmentClient(...)`. */
  clientOptions() {
    return { apiKey: this.apiKey, secretKey: this.secretKey, baseUrl: this.url }
  }

  /**
   * Enqueues events (objects as the platform stores them); returns how many were new. Each
   * event holds what `JSON.stringify` gives of it (a `Date` as its ISO text, as a real
   * server would store it); a value `JSON.stringify` cannot write (a `BigInt`, a cycle) is
   * refused.
   */
  enqueue(events) {
    return callNative(() => this.#native.enqueue(asJsonValues(events, '', 0)))
  }

  /** Enqueues `n` generated, realistic events; returns how many. */
  generate(n) {
    return callNative(() => this.#native.generate(n))
  }

  setFaults(rules) {
    callNative(() => this.#native.setFaults(rules))
  }

  addFault(rule) {
    callNative(() => this.#native.addFault(rule))
  }

  clearFaults() {
    callNative(() => this.#native.clearFaults())
  }

  faults() {
    return parse(callNative(() => this.#native.faults()))
  }

  stats() {
    return parse(callNative(() => this.#native.stats()))
  }

  pendingIds() {
    return callNative(() => this.#native.pendingIds())
  }

  acknowledgedIds() {
    return callNative(() => this.#native.acknowledgedIds())
  }

  requestLog() {
    return parse(callNative(() => this.#native.requestLog()))
  }

  clearRequestLog() {
    callNative(() => this.#native.clearRequestLog())
  }

  /** Shifts the emulator's clock by `ms` (a whole number of milliseconds, within 64 bits). */
  setClockOffsetMs(ms) {
    if (typeof ms !== 'number' || !Number.isFinite(ms)) {
      throw new errors.InvalidArgumentError(`ms must be a finite number of milliseconds, got ${typeName(ms)}`)
    }
    if (!Number.isInteger(ms)) {
      throw new errors.InvalidArgumentError(`ms must be a whole number of milliseconds, got ${ms}`)
    }
    // The native side takes an i64: -2^63 <= ms < 2^63 (2^63 itself does not fit).
    if (ms < -(2 ** 63) || ms >= 2 ** 63) throw new errors.InvalidArgumentError(`ms must fit in 64 bits, got ${ms}`)
    callNative(() => this.#native.setClockOffsetMs(ms))
  }

  /**
   * The emulator's rate-limit config: `{ idle_poll_interval_ms: null, bucket: null }` turns
   * both limits off, `{}` restores the defaults. `null` is refused, as it could mean either.
   */
  setRateLimit(config) {
    callNative(() => this.#native.setRateLimit(config))
  }

  reset() {
    callNative(() => this.#native.reset())
  }

  async stop() {
    try {
      await this.#native.stop()
    } catch (err) {
      throw translate(err)
    }
  }

  async [Symbol.asyncDispose]() {
    await this.stop()
  }

  [util.inspect.custom](depth, options, inspect) {
    let fields
    try {
      fields = { url: this.#native.url, apiKey: native.maskApiKey(this.#native.apiKey) }
    } catch {
      fields = { stopped: true }
    }
    return `Emulator ${inspect(fields, options)}`
  }
}

// ---------------------------------------------------------------------------------------
// Logging. The core's records (a retry, a failed poll, a failing handler) go to a
// `console`-like logger: warnings and errors, to `console` until `setLogger` says otherwise.

let logger = console

function emit([level, text]) {
  const method = logger === null ? undefined : logger[level]
  if (typeof method !== 'function') return
  try {
    method.call(logger, `smartai-events: ${text}`)
  } catch {
    // A logger that throws must not break the poller; the record is lost, not the events.
  }
}

/**
 * Sets where the package's log records go: an object with `error`, `warn`, `info` and
 * `debug` methods (`console`, pino, winston), or `null` for none. `level` is the lowest
 * level passed on (`'warn'` by default; `'off'`, `'error'`, `'warn'`, `'info'`, `'debug'`,
 * `'trace'`).
 */
function setLogger(next, options = {}) {
  if (next !== null && (typeof next !== 'object' || Array.isArray(next))) {
    throw new errors.InvalidArgumentError(
      `logger must be an object with error/warn/info/debug methods, or null, got ${typeName(next)}`,
    )
  }
  if (!isObject(options)) {
    throw new errors.InvalidArgumentError(`options must be an object, got ${typeName(options)}`)
  }
  const unknown = Object.keys(options).find((key) => key !== 'level')
  if (unknown !== undefined) {
    throw new errors.InvalidArgumentError(`unknown setLogger option ${JSON.stringify(unknown)}; expected level`)
  }
  const level = options.level ?? 'warn'
  if (typeof level !== 'string') throw new errors.InvalidArgumentError(`level must be a string, got ${typeName(level)}`)
  callNative(() => native.setLogSink(next === null ? null : emit, next === null ? 'off' : level))
  logger = next
}

native.setLogSink(emit, 'warn')

// ---------------------------------------------------------------------------------------
// Exports: `require('smartai-events')` is the class itself, as with the official SDK, and
// carries everything else as named exports.

Object.assign(AssessmentClient, errors, {
  AssessmentClient,
  BatchIterator,
  Emulator,
  maskApiKey(apiKey) {
    if (typeof apiKey !== 'string') {
      throw new errors.InvalidArgumentError(`apiKey must be a string, got ${typeName(apiKey)}`)
    }
    return native.maskApiKey(apiKey)
  },
  setLogger,
  default: AssessmentClient,
})

module.exports = AssessmentClient
