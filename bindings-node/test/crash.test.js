'use strict'
// Crash safety of `run`: a real poller process (fixtures/crash_poller.js) that appends to
// a JSON-lines file is SIGKILLed at random points, restarted, and finally stopped
// gracefully. Nothing may be lost, and nothing acknowledged that was not saved first.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawn } = require('node:child_process')
const { startEmulator } = require('./helpers.js')

const POLLER = path.join(__dirname, 'fixtures', 'crash_poller.js')
const KILLS = 5
const INITIAL = 3000

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/** Starts the poller and resolves once it printed `ready`. */
function spawnPoller(emu, file) {
  const child = spawn(process.execPath, [POLLER, file], {
    env: { ...process.env, ASSESSMENT_API_KEY: emu.apiKey, ASSESSMENT_SECRET_KEY: emu.secretKey, ASSESSMENT_BASE_URL: emu.url },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const out = { stdout: '', stderr: '' }
  child.stdout.on('data', (d) => (out.stdout += d))
  child.stderr.on('data', (d) => (out.stderr += d))
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })))
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the poller did not start: ${out.stderr}`)), 20_000)
    child.stdout.on('data', () => {
      if (out.stdout.includes('ready\n')) {
        clearTimeout(timer)
        resolve()
      }
    })
    exited.then(({ code }) => {
      clearTimeout(timer)
      reject(new Error(`the poller exited (${code}) before it was ready: ${out.stderr}`))
    })
  })
  return { child, out, exited, ready }
}

/** Event IDs in the file; a partial line left by a kill is skipped (it was never acknowledged). */
function saved(file) {
  const ids = new Set()
  if (!fs.existsSync(file)) return ids
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (!line) continue
    try {
      ids.add(JSON.parse(line).eventId)
    } catch {
      // the tail of a write cut short by SIGKILL
    }
  }
  return ids
}

function withinMs(promise, ms, what) {
  let timer
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms)
    }),
  ]).finally(() => clearTimeout(timer))
}

const missing = (have, want) => [...want].filter((id) => !have.has(id)).slice(0, 5)

test('SIGKILL at random points loses nothing and acknowledges nothing unsaved', { timeout: 60_000 }, async () => {
  const seed = Math.floor(Math.random() * 2 ** 30)
  const emu = await startEmulator({ seed, initial_events: INITIAL })
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smartai-crash-'))
  const file = path.join(dir, 'events.jsonl')
  try {
    // Slow every request a little so kills land inside drains, saves and acknowledges;
    // lose some acknowledges after applying them, and drop some fetches.
    emu.setFaults([
      { kind: { type: 'latency', ms: 25 } },
      { endpoint: 'acknowledge', probability: 0.1, kind: { type: 'applied_but_lost' } },
      { endpoint: 'fetch', probability: 0.05, kind: { type: 'reset' } },
    ])
    const generated = new Set(emu.pendingIds())
    let killedMidWork = 0
    for (let round = 0; round < KILLS; round++) {
      const p = spawnPoller(emu, file)
      await p.ready
      await sleep(50 + Math.random() * 550)
      if (emu.pendingIds().length > 0) killedMidWork++
      p.child.kill('SIGKILL')
      const { signal } = await withinMs(p.exited, 10_000, 'the killed poller')
      assert.equal(signal, 'SIGKILL', `seed ${seed} round ${round}: ${p.out.stderr}`)
      const acked = new Set(emu.acknowledgedIds())
      assert.deepEqual(missing(saved(file), acked), [], `seed ${seed} round ${round}: acknowledged before saved`)
      emu.generate(100) // new events arrive between crashes
    }
    for (const id of [...emu.pendingIds(), ...emu.acknowledgedIds()]) generated.add(id)
    assert.equal(generated.size, INITIAL + 100 * KILLS)
    assert.ok(killedMidWork > 0, 'no kill landed while events were pending')

    const p = spawnPoller(emu, file)
    await p.ready
    await withinMs(
      (async () => {
        while (emu.stats().pending > 0) await sleep(50)
      })(),
      30_000,
      'the final drain',
    )
    p.child.kill('SIGTERM')
    const { code } = await withinMs(p.exited, 20_000, 'the poller after SIGTERM')
    assert.equal(code, 0, `seed ${seed}: ${p.out.stderr}`)
    assert.match(p.out.stdout, /"events":/)

    const ids = saved(file)
    const acked = new Set(emu.acknowledgedIds())
    assert.deepEqual(missing(ids, generated), [], `seed ${seed}: lost events`)
    assert.equal(emu.stats().pending, 0)
    assert.deepEqual(emu.pendingIds(), [])
    assert.deepEqual(missing(ids, acked), [], `seed ${seed}: acknowledged without being saved`)
    assert.equal(acked.size, generated.size, `seed ${seed}: not all acknowledged`)
  } finally {
    await emu.stop()
    fs.rmSync(dir, { recursive: true, force: true })
  }
})
