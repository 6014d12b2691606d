#!/usr/bin/env bash
# One command for the whole benchmark (issue 7): builds release artifacts, starts the
# emulator, measures, writes bench/results.json (results-quick.json with --quick) and
# prints the Markdown table.
#
#   bench/run.sh --quick     # a minute or two (after the builds)
#   bench/run.sh             # full mode, about ten minutes
#
# Everything it builds or installs stays in target/ (release profile), bench/.venv and
# bench/.work; it does not touch the repo's .venv or the files in bindings-*/ (apart from
# bindings-node/node_modules, which `npm ci` installs if it is missing).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(dirname "$HERE")"
cd "$REPO"
MODE=()
for arg in "$@"; do
    case "$arg" in
        --quick) MODE=(--quick) ;;
        --no-build) NO_BUILD=1 ;;
        -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
        *) echo "unknown argument $arg" >&2; exit 2 ;;
    esac
done
WORK="$HERE/.work"
VENV="$HERE/.venv"
PYTHON="${PYTHON:-python3}"
mkdir -p "$WORK/wheels" "$WORK/node/node_modules/smartai-events"
export CARGO_TARGET_DIR="$REPO/target"

need() { command -v "$1" >/dev/null 2>&1; }
if [ ! -x /usr/bin/time ] || ! need hyperfine; then
    if need apt-get; then
        echo "==> apt-get install time hyperfine (hyperfine is optional)"
        apt-get install -y time >/dev/null 2>&1 || true
        apt-get install -y hyperfine >/dev/null 2>&1 || true
    fi
fi
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time (apt-get install -y time)" >&2; exit 1; }

if [ -z "${NO_BUILD:-}" ]; then
    echo "==> cargo build --release (emulator, CLI, bench drivers)"
    cargo build --release --quiet -p smartai-emulator -p smartai-events-cli -p smartai-bench

    echo "==> Python package, release build, into $VENV"
    [ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --upgrade "maturin>=1.9.4,<2" requests
    rm -f "$WORK"/wheels/*.whl
    "$VENV/bin/maturin" build --release --quiet --manifest-path bindings-python/Cargo.toml \
        --interpreter "$VENV/bin/python" --out "$WORK/wheels"
    "$VENV/bin/python" -m pip install --quiet --force-reinstall --no-deps "$WORK"/wheels/*.whl

    echo "==> Node addon, release build, into $WORK/node/node_modules/smartai-events"
    # `napi build --release` with its output (the addon and the generated native.js and
    # native.d.ts) in the bench's own package folder, next to the JS facade.
    PKG="$WORK/node/node_modules/smartai-events"
    [ -d bindings-node/node_modules/@napi-rs/cli ] || (cd bindings-node && npm ci --silent)
    (cd bindings-node && npx napi build --platform --release --js native.js --dts native.d.ts \
        --output-dir "$PKG" >/dev/null)
    for f in package.json index.js index.mjs index.d.ts; do
        cp "bindings-node/$f" "$PKG/$f"
    done
fi

echo "==> measuring"
"$PYTHON" "$HERE/harness.py" "${MODE[@]}" --venv-python "$VENV/bin/python" --node-modules "$WORK/node/node_modules"
