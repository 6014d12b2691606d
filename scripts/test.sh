#!/usr/bin/env bash
# Runs every test of the project: Rust (core, emulator, CLI), Python and Node packages,
# and the cross-language conformance scenarios. Installs what it needs (a venv at .venv,
# npm packages under bindings-node/). PostgreSQL tests run when SMARTAI_TEST_POSTGRES_URL
# is set, and are reported as skipped otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"

step() { printf '\n==> %s\n' "$*"; }

# Everything the suites print goes through one log, so that the end of this script can check
# that no secret key (every test key starts with wc_sk_, the emulator's own included) was
# printed by any test, error message, log line or repr. Log records that a passing test
# would keep to itself are written to files in the same folder and checked too.
log_dir=$(mktemp -d)
log="$log_dir/test-output.log"
exec > >(tee "$log") 2>&1

if [ -z "${SMARTAI_TEST_POSTGRES_URL:-}" ]; then
  echo "notice: SMARTAI_TEST_POSTGRES_URL is not set; the PostgreSQL tests will be skipped."
  echo "        (e.g. SMARTAI_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres)"
fi

step "Rust: cargo test --workspace"
cargo test --workspace --exclude smartai-events-node
# The addon's unit tests (the workspace run above leaves the addon crate out).
cargo test -p smartai-events-node --lib

step "Independent client: a stdlib-only Python client drains the emulator binary"
python3 tests/independent_client.py "$CARGO_TARGET_DIR/debug/smartai-emulator"

step "Python package"
# Every record of every test, passing ones included, down to DEBUG, for the secret check.
bash bindings-python/scripts/test.sh --log-file="$log_dir/python-records.log" --log-file-level=DEBUG

step "Node package"
bash bindings-node/scripts/test.sh

if [ -f tests/conformance/run.sh ]; then
  step "Conformance scenarios in every language"
  bash tests/conformance/run.sh
fi

step "Fuzzing: every cargo-fuzz target for ${SMARTAI_FUZZ_SECONDS:-20} s (property tests without nightly)"
bash scripts/fuzz.sh "${SMARTAI_FUZZ_SECONDS:-20}"

step "Secrets: no secret key in anything the suites printed or logged"
sleep 1 # let tee write the last lines
records=$(cat "$log_dir"/*.log | wc -l)
if grep -n 'wc_sk_[A-Za-z0-9_]' "$log_dir"/*.log | head -n 5 | sed 's/wc_sk_[A-Za-z0-9_]*/wc_sk_<redacted>/g' | grep .; then
  echo "secret check: 0 passed, 1 failed (a secret key was printed or logged; lines above, redacted)"
  exit 1
fi
echo "secret check: 1 passed, 0 failed ($records lines of output and log records searched)"

step "All tests passed"
