#!/usr/bin/env bash
# From a fresh clone: install the dev dependencies, build the native module from source,
# run the Node tests and the strict TypeScript check, then check that `npm pack` makes a
# self-contained tarball that installs into another app (CommonJS and ESM).
#
#   bindings-node/scripts/test.sh            # debug build (faster to compile)
#   BUILD=release bindings-node/scripts/test.sh
#
# Exits non-zero on the first failure.
set -euo pipefail

cd "$(dirname "$0")/.."
echo "== node $(node --version), npm $(npm --version)"

if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi

if [ "${BUILD:-debug}" = "release" ]; then npm run build:release; else npm run build; fi

echo "== tests"
npm test

echo "== npm pack: install the tarball into a scratch app"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
tarball="$(npm pack --silent --pack-destination "$scratch" | tail -n 1)"
tar -tzf "$scratch/$tarball" | sort
mkdir "$scratch/app"
cd "$scratch/app"
npm init -y >/dev/null
npm install --no-audit --no-fund --offline "$scratch/$tarball"

cat > check.cjs <<'JS'
const AssessmentClient = require('smartai-events')
const { Emulator, SmartAIError } = AssessmentClient
;(async () => {
  const emu = await Emulator.start({ rate_limit: { idle_poll_interval_ms: null, bucket: null } })
  emu.generate(5)
  const client = new AssessmentClient({ apiKey: emu.apiKey, secretKey: emu.secretKey, baseUrl: emu.url })
  const { events, pendingCount } = await client.getWebhookEvents({ limit: 50 })
  if (events.length) await client.acknowledgeWebhookEvents(events.map((e) => e.eventId))
  const err = await client.getWebhookEvents({ limit: 0 }).catch((e) => e)
  await emu.stop()
  if (events.length !== 5 || pendingCount !== 0 || !(err instanceof SmartAIError) || err.code !== 'INVALID_ARGUMENT') {
    throw new Error(`unexpected: ${events.length} ${pendingCount} ${err}`)
  }
  console.log('CommonJS: ok')
})().catch((e) => { console.error(e); process.exit(1) })
JS
node check.cjs

cat > check.mjs <<'JS'
import AssessmentClient, { Emulator, HandlerError } from 'smartai-events'
const emu = await Emulator.start({ rate_limit: { idle_poll_interval_ms: null, bucket: null } })
emu.generate(3)
const client = new AssessmentClient({ ...emu.clientOptions(), minPollIntervalMs: 0 })
const summary = await client.drain(async () => {})
await emu.stop()
if (summary.events !== 3 || typeof HandlerError !== 'function') throw new Error(JSON.stringify(summary))
console.log('ESM: ok')
JS
node check.mjs

echo "== all Node checks passed"
