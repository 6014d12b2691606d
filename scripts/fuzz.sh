#!/usr/bin/env bash
# Fuzzes event decoding, canonical JSON and response parsing.
#
#   scripts/fuzz.sh          # 20 s per target: the short run CI does
#   scripts/fuzz.sh 600      # 10 minutes per target
#
# Needs a nightly toolchain and cargo-fuzz (installed here with `cargo install cargo-fuzz
# --locked` when missing). Without either, it says so and runs the property tests in
# core/tests/ with many more cases instead. Crashes land in fuzz/artifacts/<target>/; the
# corpus grows in fuzz/corpus/<target>/ (seeded from fuzz/seeds/<target>/). Exits 0 only
# if everything that ran passed, and ends with `fuzz: N passed, M failed`.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

seconds="${1:-20}"
case "$seconds" in
  '' | *[!0-9]*) echo "usage: scripts/fuzz.sh [seconds-per-target]" >&2; exit 2 ;;
esac
targets=(decode_events canonical_json response_parsing)
property_tests=(proptest_decode proptest_canonical proptest_response)
passed=0
failed=0

finish() {
  echo "fuzz: $passed passed, $failed failed"
  [ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
  exit $?
}

fuzzer_available() {
  if ! cargo +nightly --version >/dev/null 2>&1; then
    echo "fuzz: no nightly toolchain (rustup toolchain install nightly), so no cargo-fuzz"
    return 1
  fi
  if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz: installing cargo-fuzz"
    if ! cargo install cargo-fuzz --locked; then
      echo "fuzz: could not install cargo-fuzz"
      return 1
    fi
  fi
}

if fuzzer_available; then
  # The fuzz crate is its own workspace with its own target directory: its sanitizer flags
  # would otherwise rebuild the main workspace's artifacts. FUZZ_TARGET_DIR may point it at a
  # directory that outlives the clone, so that repeated runs skip the instrumented build.
  export CARGO_TARGET_DIR="${FUZZ_TARGET_DIR:-$root/fuzz/target}"
  echo "==> building the fuzz targets"
  if ! cargo +nightly fuzz build; then
    failed=${#targets[@]}
    finish
  fi
  for target in "${targets[@]}"; do
    echo "==> fuzzing $target for ${seconds} s"
    mkdir -p "fuzz/corpus/$target"
    # The first directory receives new inputs; the committed seeds are only read.
    if cargo +nightly fuzz run "$target" "fuzz/corpus/$target" "fuzz/seeds/$target" -- \
      -max_total_time="$seconds" -dict=fuzz/json.dict -timeout=10 -rss_limit_mb=2048 -print_final_stats=1; then
      passed=$((passed + 1))
    else
      echo "fuzz: $target failed; the input is in fuzz/artifacts/$target/"
      echo "      replay it with: cargo +nightly fuzz run $target fuzz/artifacts/$target/<file>"
      failed=$((failed + 1))
    fi
  done
else
  # Roughly the number of cases the property tests get through in the same time.
  cases=$((seconds * 200))
  echo "fuzz: falling back to the property tests with PROPTEST_CASES=$cases"
  for test in "${property_tests[@]}"; do
    echo "==> $test"
    if PROPTEST_CASES="$cases" cargo test -p smartai-events --test "$test"; then
      passed=$((passed + 1))
    else
      failed=$((failed + 1))
    fi
  done
fi
finish
