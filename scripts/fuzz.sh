#!/usr/bin/env bash
# Fuzzing with libFuzzer (clang, Debian's libclang-rt-14-dev): builds tests/fuzz/fuzz_*.c with
# AddressSanitizer + UndefinedBehaviorSanitizer into build-fuzz/ and runs each target for
# --seconds S (default 300: a campaign; the test command runs 15 s each) on a working copy of
# its corpus, tests/fuzz/corpus/<target>/ (new interesting inputs stay in build-fuzz/, so the
# repository's corpus changes only when you copy them back). Every file under
# tests/fuzz/regress/<target>/ runs first: each is an input that once crashed, kept as a
# regression test named after the bug. A crash stops the script with exit 1 and leaves the
# input as build-fuzz/crash-<target>-*; copy it to tests/fuzz/regress/<target>/<bug-name>.
#
#   scripts/fuzz.sh [--seconds S] [--jobs J] [TARGET...]     targets: csv options parquet pqread json
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
seconds=300
jobs=1
targets=()
while [ $# -gt 0 ]; do
  case $1 in
  --seconds) seconds=$2; shift 2 ;;
  --jobs) jobs=$2; shift 2 ;;
  *) targets+=("$1"); shift ;;
  esac
done
[ ${#targets[@]} -gt 0 ] || targets=(csv options parquet pqread json)
command -v clang >/dev/null || { echo "fuzz.sh: clang is needed (scripts/install-deps.sh)" >&2; exit 1; }
build="$here/build-fuzz"
CC=clang cmake -S "$here" -B "$build" -DATHLETE_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j "$(nproc)" --target "${targets[@]/#/fuzz_}" >/dev/null
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
for t in "${targets[@]}"; do
  bin="$build/tests/fuzz_$t"
  regress=("$here/tests/fuzz/regress/$t"/*)
  if [ -e "${regress[0]}" ]; then
    "$bin" "${regress[@]}" >"$build/regress-$t.log" 2>&1 ||
      { tail -30 "$build/regress-$t.log" >&2; echo "fuzz.sh: a regression input of $t crashes" >&2; exit 1; }
  fi
  work="$build/corpus-$t"
  mkdir -p "$work"
  cp -n "$here/tests/fuzz/corpus/$t"/* "$work/" 2>/dev/null || true
  echo "fuzz.sh: $t for $seconds s" >&2
  if ! "$bin" -max_total_time="$seconds" -jobs="$jobs" -workers="$jobs" -print_final_stats=1 \
    -artifact_prefix="$build/crash-$t-" "$work" >"$build/fuzz-$t.log" 2>&1; then
    tail -40 "$build/fuzz-$t.log" >&2
    echo "fuzz.sh: fuzz_$t found a crash: $(ls "$build"/crash-"$t"-* 2>/dev/null | head -1)" >&2
    exit 1
  fi
  grep -E '^stat::number_of_executed_units|^Done' "$build/fuzz-$t.log" | tail -1 >&2
done
echo "fuzz.sh: no crash" >&2
