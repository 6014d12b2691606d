#!/usr/bin/env node
// Conformance runner for Node: runs every scenario in scenarios/*.json through the public
// API of the `smartai-events` package (bindings-node/) against its in-process emulator.
//
//   node tests/conformance/run_node.mjs [name-substring ...]
//
// Prints one line per difference and ends with `conformance node: N passed, M failed[, K skipped]`.
// All expectations live in the JSON files; this file only executes steps and reports outcomes.

import { createRequire } from 'node:module'
import { appendFileSync, readFileSync, readdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const require = createRequire(import.meta.url)
const HERE = dirname(fileURLToPath(import.meta.url))
// CONFORMANCE_NODE_PACKAGE points at another build of the package (default: bindings-node/).
const AssessmentClient = require(process.env.CONFORMANCE_NODE_PACKAGE || join(HERE, '..', '..', 'bindings-node'))
const { Emulator, SmartAIError } = AssessmentClient

const LANG = 'node'
const STEP_GUARD_MS = 60_000 // catches hangs only; never a timing assertion
const KNOWN = new Set(['assessment.completed', 'assessment.disqualified', 'assessment.sent'])

// ------------------------------------------------------------------------------- helpers
/** Replaces runner placeholders in fault rules (computed when the rule is installed). */
function substitute(value) {
  if (typeof value === 'string') {
    if (value === '$HTTP_DATE_PLUS_2S') return new Date(Date.now() + 2000).toUTCString()
    return value
  }
  if (Array.isArray(value)) return value.map(substitute)
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v)]))
  }
  return value
}

function errorOutcome(err) {
  if (!(err instanceof SmartAIError)) {
    return { code: `NOT_A_SMARTAI_ERROR(${err && err.name})`, message: String(err && err.message) }
  }
  return {
    code: err.code,
    message: err.message,
    status: err.status ?? null,
    retry_after_ms: err.retryAfterMs ?? null,
  }
}

function classify(events) {
  return {
    unknown: events.filter((e) => !KNOWN.has(e.event) || e.decodeError !== undefined).length,
    decode_errors: events.filter((e) => e.decodeError !== undefined).length,
    event_ids: events.map((e) => e.eventId),
  }
}

function newTally() {
  return { handlerCalls: 0, handledOk: 0, events: [], deadLetteredIds: [] }
}

function makeHandler(step, tally, stop) {
  const failIds = new Set(step.fail_event_ids ?? [])
  return async (events) => {
    tally.handlerCalls += 1
    tally.events.push(...events)
    const n = tally.handlerCalls
    if (step.fail_on_batch === n || events.some((e) => failIds.has(e.eventId))) {
      throw new Error(`boom on batch ${n}`)
    }
    tally.handledOk += events.length
    if (stop && step.stop_after_events !== undefined && tally.handledOk >= step.stop_after_events) stop.abort()
  }
}

function withinMs(promise, ms) {
  let timer
  const guard = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`__HANG__`)), ms)
  })
  return Promise.race([promise, guard]).finally(() => clearTimeout(timer))
}

// ------------------------------------------------------------------------------- steps
async function opFetch(client, emu, step) {
  const opts = {}
  for (const k of ['limit', 'since']) if (k in step) opts[k] = step[k]
  if (!('cancel_after_ms' in step)) {
    const batch = await client.getWebhookEvents(opts)
    return { events: batch.events.length, pending_count: batch.pendingCount, ...classify(batch.events) }
  }
  const abort = new AbortController()
  const timer = setTimeout(() => abort.abort(), step.cancel_after_ms)
  try {
    const batch = await client.getWebhookEvents({ ...opts, signal: abort.signal })
    return { cancelled: false, events: batch.events.length, pending_count: batch.pendingCount }
  } catch (err) {
    if (err instanceof SmartAIError && err.code === 'CANCELLED') return { cancelled: true }
    throw err
  } finally {
    clearTimeout(timer)
  }
}

function ackIds(emu, step) {
  let ids = step.ids ?? 'all_pending'
  if (ids === 'all_pending') ids = emu.pendingIds()
  else if (ids === 'acknowledged') ids = emu.acknowledgedIds()
  if ('count' in step) ids = emu.pendingIds().slice(0, step.count)
  if (!Array.isArray(ids)) return ids // a wrong type on purpose (validation scenarios)
  const repeat = step.repeat ?? 1
  return ids.flatMap((id) => Array(repeat).fill(id))
}

async function opAck(client, emu, step) {
  const result = await client.acknowledgeWebhookEvents(ackIds(emu, step))
  return { acknowledged: result.acknowledged }
}

async function opSession(client, emu, step) {
  const request = { users: step.users ?? [] }
  if ('recruiter_id' in step) request.recruiterId = step.recruiter_id
  if ('recruiter_email' in step) request.recruiterEmail = step.recruiter_email
  const token = await client.createSession(request)
  return { token: Boolean(token.token), expires_at: token.expiresAt != null }
}

function drainOptions(step) {
  const names = { limit: 'limit', since: 'since', max_events: 'maxEvents', max_batches: 'maxBatches' }
  const opts = {}
  for (const [k, js] of Object.entries(names)) if (k in step) opts[js] = step[k]
  return opts
}

async function opDrain(client, emu, step, tally) {
  const s = await client.drain(makeHandler(step, tally, null), drainOptions(step))
  return { events: s.events, batches: s.batches, acknowledged: s.acknowledged, pending_count: s.pendingCount }
}

async function opBatches(client, emu, step, tally) {
  const it = client.batches(drainOptions(step))
  const after = step.faults_after_batch
  for await (const batch of it) {
    tally.handlerCalls += 1
    tally.events.push(...batch.events)
    if (after && after.batch === tally.handlerCalls) emu.addFault(substitute(after.faults))
    if (step.break_after === tally.handlerCalls) {
      if (step.commit_before_break) await it.commit()
      break
    }
  }
  return {}
}

async function opRun(client, emu, step, tally) {
  const stop = new AbortController()
  const timer = 'stop_after_ms' in step ? setTimeout(() => stop.abort(), step.stop_after_ms) : null
  const deadLetter = (events) => {
    tally.deadLetteredIds.push(...events.map((e) => e.eventId))
    const limit = step.stop_after_dead_letters
    if (limit !== undefined && tally.deadLetteredIds.length >= limit) stop.abort()
  }
  try {
    const s = await client.run(makeHandler(step, tally, stop), {
      intervalMs: step.interval_ms ?? 100,
      signal: stop.signal,
      maxAttempts: step.max_attempts ?? 5,
      ordered: step.ordered ?? false,
      ...(step.dead_letter ? { deadLetter } : {}),
      ...drainOptions(step),
    })
    return { events: s.events, acknowledged: s.acknowledged }
  } finally {
    if (timer) clearTimeout(timer)
  }
}

async function runStep(client, emu, step) {
  const tally = newTally()
  let out = {}
  const sleep = async () => {
    await new Promise((r) => setTimeout(r, step.ms))
    return {}
  }
  const ops = { fetch: opFetch, ack: opAck, session: opSession, drain: opDrain, batches: opBatches, run: opRun, sleep }
  const fn = ops[step.op]
  if (!fn) throw new Error(`unknown op ${step.op}`)
  try {
    out = await fn(client, emu, step, tally)
    out.error = null
  } catch (err) {
    if (!(err instanceof SmartAIError)) throw err
    out.error = errorOutcome(err)
  }
  if (['drain', 'batches', 'run'].includes(step.op)) {
    out.handler_calls = tally.handlerCalls
    if (out.events === undefined) out.events = tally.events.length
    if (step.op === 'batches') out.batches = tally.handlerCalls
    const c = classify(tally.events)
    out.unknown = c.unknown
    out.decode_errors = c.decode_errors
    out.dead_lettered = tally.deadLetteredIds.length
    out.dead_lettered_ids = tally.deadLetteredIds
  }
  return out
}

// ------------------------------------------------------------------------------- checks
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b)
const show = (v) => JSON.stringify(v === undefined ? null : v)

function compare(where, expect, out) {
  const diffs = []
  const err = out.error
  const want = expect.error
  if (!want && err) return [`${where}: unexpected error ${err.code}: ${err.message}`]
  if (want) {
    if (!err) diffs.push(`${where}: expected error ${want.code}, got success ${JSON.stringify(out)}`)
    else {
      if (err.code !== want.code) diffs.push(`${where}: error code ${err.code} (${err.message}), expected ${want.code}`)
      if ('message' in want && !err.message.includes(want.message)) {
        diffs.push(`${where}: error message ${show(err.message)} lacks ${show(want.message)}`)
      }
      for (const k of ['status', 'retry_after_ms']) {
        if (k in want && err[k] !== want[k]) diffs.push(`${where}: error ${k} ${err[k]}, expected ${want[k]}`)
      }
    }
  }
  for (const [key, value] of Object.entries(expect)) {
    if (key === 'error') continue
    if (!same(out[key], value)) diffs.push(`${where}: ${key} = ${show(out[key])}, expected ${show(value)}`)
  }
  return diffs
}

function finalChecks(emu, expect) {
  const diffs = []
  const log = emu.requestLog()
  const by = (ep) => log.filter((r) => r.endpoint === ep)
  if ('pending' in expect && emu.pendingIds().length !== expect.pending) {
    diffs.push(`final: pending = ${emu.pendingIds().length}, expected ${expect.pending}`)
  }
  for (const [ep, n] of Object.entries(expect.requests ?? {})) {
    if (by(ep).length !== n) diffs.push(`final: ${ep} requests = ${by(ep).length}, expected ${n}`)
  }
  for (const [ep, want] of Object.entries(expect.statuses ?? {})) {
    const got = by(ep).map((r) => r.status)
    if (!same(got, want)) diffs.push(`final: ${ep} statuses = ${show(got)}, expected ${show(want)}`)
  }
  for (const [field, name] of [['query', 'queries'], ['path', 'paths']]) {
    for (const [ep, want] of Object.entries(expect[name] ?? {})) {
      const got = by(ep).map((r) => r[field])
      if (!same(got, want)) diffs.push(`final: ${ep} ${name} = ${show(got)}, expected ${show(want)}`)
    }
  }
  if ('ack_ids_sent' in expect) {
    const sent = by('acknowledge')
      .filter((r) => r.body)
      .reduce((n, r) => n + JSON.parse(r.body).eventIds.length, 0)
    if (sent !== expect.ack_ids_sent) {
      diffs.push(`final: IDs sent in acknowledge bodies = ${sent}, expected ${expect.ack_ids_sent}`)
    }
  }
  for (const gap of expect.min_gap_ms ?? []) {
    const entries = by(gap.endpoint)
    if (entries.length <= Math.max(gap.from, gap.to)) {
      diffs.push(`final: min_gap_ms needs ${gap.endpoint} request #${gap.to}, only ${entries.length} logged`)
      continue
    }
    const got = entries[gap.to].at_ms - entries[gap.from].at_ms
    if (got < gap.ms) {
      diffs.push(
        `final: gap between ${gap.endpoint} requests #${gap.from} and #${gap.to} = ${got} ms, expected >= ${gap.ms} ms`,
      )
    }
  }
  return diffs
}

/** With CONFORMANCE_DUMP=<file>, appends every step outcome as a JSON line (to diff languages). */
function dump(sc, i, out) {
  const path = process.env.CONFORMANCE_DUMP
  if (!path) return
  const sorted = (v) =>
    Array.isArray(v)
      ? v.map(sorted)
      : v !== null && typeof v === 'object'
        ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sorted(v[k])]))
        : v
  appendFileSync(path, JSON.stringify(sorted({ scenario: sc._name, step: i + 1, out })) + '\n')
}

// ------------------------------------------------------------------------------- scenario
async function runScenario(sc) {
  const setup = sc.emulator ?? {}
  const config = {}
  for (const k of ['retention_ms', 'timestamp_window_ms', 'seed']) if (k in setup) config[k] = setup[k]
  const rate = setup.rate_limit ?? false
  if (rate === false) config.rate_limit = { idle_poll_interval_ms: null, bucket: null }
  else if (rate !== true) config.rate_limit = rate
  const emu = await Emulator.start(config)
  try {
    if (setup.generate) emu.generate(setup.generate)
    if (setup.events) emu.enqueue(setup.events)
    if (setup.clock_offset_ms) emu.setClockOffsetMs(setup.clock_offset_ms)
    if (setup.faults) emu.setFaults(substitute(setup.faults))
    const c = sc.client ?? {}
    const client = new AssessmentClient({
      apiKey: emu.apiKey,
      secretKey: emu.secretKey,
      baseUrl: emu.url,
      timeoutMs: c.timeoutMs ?? 30000,
      maxRetries: c.maxRetries ?? 3,
      minPollIntervalMs: c.minPollIntervalMs ?? 0,
    })
    let diffs = []
    for (const [i, step] of sc.steps.entries()) {
      const where = `step ${i + 1} (${step.op})`
      let out
      try {
        out = await withinMs(runStep(client, emu, step), STEP_GUARD_MS)
      } catch (err) {
        if (err && err.message === '__HANG__') diffs.push(`${where}: did not finish within ${STEP_GUARD_MS / 1000} s (hang)`)
        else diffs.push(`${where}: raised ${err && err.name}: ${err && err.message}`)
        break
      }
      diffs = diffs.concat(compare(where, step.expect ?? {}, out))
      dump(sc, i, out)
    }
    await new Promise((r) => setTimeout(r, 50)) // let the emulator log a dropped connection
    diffs = diffs.concat(finalChecks(emu, sc.expect ?? {}))
    await client.close()
    return diffs
  } finally {
    await emu.stop()
  }
}

async function main(argv) {
  let files = readdirSync(join(HERE, 'scenarios'))
    .filter((f) => f.endsWith('.json'))
    .sort()
  if (argv.length) files = files.filter((f) => argv.some((a) => f.includes(a)))
  let passed = 0
  let failed = 0
  let skipped = 0
  for (const file of files) {
    const name = file.replace(/\.json$/, '')
    const sc = JSON.parse(readFileSync(join(HERE, 'scenarios', file), 'utf8'))
    sc._name = name
    const reason = (sc.skip ?? {})[LANG]
    if (reason) {
      skipped += 1
      console.log(`SKIP ${name}: ${reason}`)
      continue
    }
    let diffs
    try {
      // Steps have their own guard; this one also covers emulator start and stop.
      diffs = await withinMs(runScenario(sc), 5 * STEP_GUARD_MS)
    } catch (err) {
      if (err && err.message === '__HANG__') diffs = ['scenario did not finish (setup, teardown or a step hung)']
      else diffs = [`setup: ${err && err.name}: ${err && err.message}`]
    }
    if (diffs.length) {
      failed += 1
      for (const d of diffs) console.log(`FAIL ${name}: ${d}`)
    } else passed += 1
  }
  let summary = `conformance ${LANG}: ${passed} passed, ${failed} failed`
  if (skipped) summary += `, ${skipped} skipped`
  console.log(summary)
  return failed ? 1 : 0
}

// Exit explicitly: a handle left behind by a binding must not keep the runner alive after
// the summary is printed (seen once, not reproduced).
process.exit(await main(process.argv.slice(2)))
