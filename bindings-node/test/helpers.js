'use strict'

const AssessmentClient = require('smartai-events')

const { Emulator } = AssessmentClient

/** Both emulator rate limits off: functional tests poll back to back. */
const NO_RATE_LIMIT = { idle_poll_interval_ms: null, bucket: null }

/** Events in these tests carry fixed 2026 timestamps: keep them for ten years. */
const RETENTION_MS = 10 * 365 * 24 * 3600 * 1000

async function startEmulator(options = {}) {
  return Emulator.start({ rate_limit: NO_RATE_LIMIT, retention_ms: RETENTION_MS, ...options })
}

function clientFor(emu, options = {}) {
  return new AssessmentClient({
    apiKey: emu.apiKey,
    secretKey: emu.secretKey,
    baseUrl: emu.url,
    minPollIntervalMs: 0,
    ...options,
  })
}

/** Requests the emulator saw for one endpoint (`fetch`, `acknowledge`, `session`). */
function requests(emu, endpoint) {
  return emu.requestLog().filter((r) => r.endpoint === endpoint)
}

/** Rejects if `promise` takes longer than `ms`: catches hangs only, never measures. */
function withinMs(promise, ms, what = 'operation') {
  let timer
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

function event(id, extra = {}) {
  return {
    eventId: id,
    event: 'assessment.completed',
    assessmentId: 'asmt_xyz789',
    candidateId: `cand_${id}`,
    candidateName: 'Priya Sharma',
    candidateEmail: 'priya@example.com',
    assessmentName: 'Full Stack Developer Assessment',
    jobTitle: 'Senior Software Engineer',
    score: 78,
    totalMarks: 100,
    passMarks: 60,
    passed: true,
    status: 'completed',
    submittedAt: '2026-06-09T10:30:00.000Z',
    durationMinutes: 45,
    aiFeedback: null,
    reportUrl: `https://platform.smartai.app/reports/${id}`,
    proctoring: { score: 88, violationCount: 2 },
    storedAt: '2026-06-09T10:31:00.000Z',
    ...extra,
  }
}

function events(n, prefix = 'evt') {
  return Array.from({ length: n }, (_, i) =>
    event(`${prefix}_${String(i).padStart(4, '0')}`, {
      storedAt: new Date(Date.UTC(2026, 5, 9, 10, 31, 0, i)).toISOString(),
    }),
  )
}

module.exports = { AssessmentClient, Emulator, NO_RATE_LIMIT, startEmulator, clientFor, requests, withinMs, event, events }
