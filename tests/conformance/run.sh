#!/usr/bin/env bash
# Runs the conformance scenarios (scenarios/*.json) in every language: Rust, Python, Node.
# Each runner prints `conformance <lang>: N passed, M failed[, K skipped]`; this script runs
# all three even if one fails, and exits non-zero if any failed.
#
#   bash tests/conformance/run.sh               # all languages
#   bash tests/conformance/run.sh python node   # some of them
#   CONFORMANCE_FILTER=drain_ bash tests/conformance/run.sh   # scenarios whose name contains drain_
#
# Expects what scripts/test.sh prepares: the venv at <repo>/.venv with the Python package
# installed (bindings-python/scripts/test.sh) and the Node addon built
# (bindings-node/scripts/test.sh).
set -uo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
cd "$ROOT"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"

langs=("$@")
[ ${#langs[@]} -eq 0 ] && langs=(rust python node)
filter=()
if [ -n "${CONFORMANCE_FILTER:-}" ]; then IFS=',' read -r -a filter <<< "$CONFORMANCE_FILTER"; fi

status=0
summaries=()
for lang in "${langs[@]}"; do
  printf '\n==> conformance: %s\n' "$lang"
  log="$(mktemp)"
  case "$lang" in
    rust)   cargo test -p smartai-conformance --test conformance -- --nocapture 2>&1 | tee "$log" ;;
    python) "$ROOT/.venv/bin/python" "$HERE/run_python.py" "${filter[@]}" 2>&1 | tee "$log" ;;
    node)   node "$HERE/run_node.mjs" "${filter[@]}" 2>&1 | tee "$log" ;;
    *)      echo "unknown language: $lang" | tee "$log"; false ;;
  esac
  rc=${PIPESTATUS[0]}
  line="$(grep -E "^conformance $lang: " "$log" | tail -n 1)"
  summaries+=("${line:-conformance $lang: no summary (exit code $rc)}")
  [ "$rc" -ne 0 ] && status=1
  rm -f "$log"
done

printf '\n'
printf '%s\n' "${summaries[@]}"
exit "$status"
