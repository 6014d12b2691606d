#!/usr/bin/env bash
# Builds the Python package from source and runs its checks: mypy --strict on the examples
# and the package, then pytest against the in-process emulator.
#
#   bindings-python/scripts/test.sh            # from anywhere in a clone
#   PYTHON=python3.12 bindings-python/scripts/test.sh
#
# Uses (and creates if needed) a virtualenv at <repo>/.venv. Compiled Rust dependencies are
# shared with the workspace through <repo>/target.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PKG="$(dirname "$HERE")"
REPO="$(dirname "$PKG")"
PYTHON="${PYTHON:-python3}"
VENV="$REPO/.venv"

if [ ! -x "$VENV/bin/python" ]; then
    echo "==> creating $VENV"
    "$PYTHON" -m venv "$VENV"
fi
PY="$VENV/bin/python"

echo "==> installing build and test tools"
"$PY" -m pip install --quiet --upgrade "maturin>=1.9.4,<2" "pytest>=9" "pytest-asyncio>=1.5" mypy

echo "==> building the native module (maturin develop)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$REPO/target}"
# maturin develop installs into the active virtualenv.
VIRTUAL_ENV="$VENV" PATH="$VENV/bin:$PATH" "$VENV/bin/maturin" develop --quiet --manifest-path "$PKG/Cargo.toml"

echo "==> mypy --strict (examples and package)"
(cd "$PKG" && "$PY" -m mypy --strict examples python/smartai_events tests/test_handler_types.py)

echo "==> pytest"
(cd "$PKG" && "$PY" -m pytest -q tests "$@")
