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

if [ -z "${SMARTAI_TEST_POSTGRES_URL:-}" ]; then
  echo "notice: SMARTAI_TEST_POSTGRES_URL is not set; the PostgreSQL tests will be skipped."
  echo "        (e.g. SMARTAI_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres)"
fi

step "Rust: cargo test --workspace"
cargo test --workspace --exclude smartai-events-node

step "Independent client: a stdlib-only Python client drains the emulator binary"
python3 tests/independent_client.py "$CARGO_TARGET_DIR/debug/smartai-emulator"

step "Python package"
bash bindings-python/scripts/test.sh

step "Node package"
bash bindings-node/scripts/test.sh

if [ -f tests/conformance/run.sh ]; then
  step "Conformance scenarios in every language"
  bash tests/conformance/run.sh
fi

step "All tests passed"
