'use strict'
// The official SDK's example (seed/000_dd746b63288b476a.txt), copied unchanged; only the
// client is pointed at the in-process emulator.

const test = require('node:test')
const assert = require('node:assert/strict')
const { startEmulator } = require('./helpers.js')

// The canonical `assessment.completed` sample from the seed page.
const SEED_EVENT = {
  eventId: 'evt_01J9XYZABC',
  event: 'assessment.completed',
  assessmentId: 'asmt_xyz789',
  candidateId: 'cand_abc123',
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
  reportUrl: 'https://platform.smartai.app/reports/evt_01J9XYZABC',
  proctoring: {
    score: 88,
    violationCount: 2,
  },
  storedAt: '2026-06-09T10:31:00.000Z',
}

test('the seed example runs unchanged against smartai-events', async () => {
  const emu = await startEmulator()
  try {
    emu.enqueue([SEED_EVENT])
    emu.generate(3)
    const apiKey = emu.apiKey
    const secretKey = emu.secretKey
    const baseUrl = emu.url

    const AssessmentClient = require('smartai-events')
    const client = new AssessmentClient({ apiKey, secretKey, baseUrl })
    const saved = []
    const saveToYourDatabase = async (event) => {
      saved.push(event)
    }
    const logged = []
    const console = { log: (line) => logged.push(line) }

    // ---- the seed snippet, verbatim ----
    const { events, pendingCount } = await client.getWebhookEvents({ limit: 50 });

    console.log(`Got ${events.length} events, ${pendingCount} still pending`);

    for (const event of events) {
      await saveToYourDatabase(event);
    }

    if (events.length) {
      await client.acknowledgeWebhookEvents(events.map(e => e.eventId));
    }
    // ---- end of the seed snippet ----

    assert.deepEqual(logged, ['Got 4 events, 0 still pending'])
    assert.equal(saved.length, 4)
    // The seed's event arrives exactly as the server sent it, and round-trips.
    const seed = saved.find((e) => e.eventId === 'evt_01J9XYZABC')
    assert.deepEqual(seed, SEED_EVENT)
    assert.equal(JSON.stringify(seed), JSON.stringify(SEED_EVENT))
    assert.deepEqual(emu.pendingIds(), [])
    assert.equal(emu.stats().acknowledged_total, 4)
  } finally {
    await emu.stop()
  }
})
