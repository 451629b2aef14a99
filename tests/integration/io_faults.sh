#!/usr/bin/env bash
# labels: mpi faults
# processors: 2
# I/O errors at every step of a run (SQLite's I/O-error discipline), injected by
# tests/faults/iofault.c (LD_PRELOAD): the Nth open/write/pwrite(v)/fsync/fflush/fclose/rename/
# mkdir/posix_fallocate under the lake fails with EIO or ENOSPC, on one rank or on every rank,
# once or from then on. For each N: the run ends within 60 s (no hang), exits 1 naming the
# file (or exits 0 having retried the call, with a complete lake), every committed table is
# byte-identical to the previous version, and the next run succeeds and leaves no temporary
# folder. Then a real full disk: a small tmpfs (when this machine lets the test mount one).
#
# CI samples IOFAULT_SAMPLES calls of each configuration (default 12; 4 under the sanitizers);
# scripts/fault-loop.sh runs every call (IOFAULT_SAMPLES=all).
source "$(dirname "$0")/lib.sh"
LIB="$ATHLETE_BUILD/tests/iofault.so"
[ -f "$LIB" ] || fail "no $LIB (build the tests)"
samples=${IOFAULT_SAMPLES:-12}
[ "${ATHLETE_SANITIZE:-OFF}" = ON ] && [ -z "${IOFAULT_SAMPLES:-}" ] && samples=4
# The sanitizer runtime must come first; the injector is not instrumented.
export ASAN_OPTIONS="${ASAN_OPTIONS:-}:verify_asan_link_order=0"
LAKE="$WORK/lake"
SRC="$ATHLETE_SRC/data"

# fingerprint: every committed file of the lake (no temporary folder), with its checksum
# (a manifest's step timings differ run to run: only its presence counts).
fingerprint() {
  (cd "$LAKE" && find . -path '*/.*' -prune -o -type f ! -name _manifest.json -print |
    LC_ALL=C sort | xargs md5sum && find . -path '*/.*' -prune -o -name _manifest.json -print |
    LC_ALL=C sort)
}

# run_with_fault NP N RANK ERRNO PERSIST: `athlete run` with the Nth call failing.
run_with_fault() {
  local rc=0
  IOFAULT_PREFIX="$LAKE/" IOFAULT_N=$2 IOFAULT_RANK=$3 IOFAULT_ERRNO=$4 IOFAULT_PERSIST=$5 \
    LD_PRELOAD="$LIB" timeout 60 "$ATHLETE_SRC/scripts/mpirun.sh" -np "$1" \
    -x LD_PRELOAD -x IOFAULT_PREFIX -x IOFAULT_N -x IOFAULT_RANK -x IOFAULT_ERRNO \
    -x IOFAULT_PERSIST -x ASAN_OPTIONS "$ATHLETE_BIN" run --source "$SRC" --lake "$LAKE" \
    >"$WORK/f.out" 2>"$WORK/f.err" || rc=$?
  echo "$rc"
}

checked=0
for np in 1 2; do
  # The previous version: what a good run with this rank count commits (parts per rank).
  rm -rf "$LAKE"
  mpi "$np" run --source "$SRC" --lake "$LAKE" --quiet || fail "first run"
  fingerprint >"$WORK/v0"
  [ "$(grep -c '' "$WORK/v0")" -gt 20 ] || fail "the lake has too few files to be a real run"
  # How many calls each rank makes (the child that creates HDF5 files counts on its own).
  : >"$WORK/count"
  IOFAULT_PREFIX="$LAKE/" IOFAULT_COUNT="$WORK/count" LD_PRELOAD="$LIB" \
    "$ATHLETE_SRC/scripts/mpirun.sh" -np "$np" -x LD_PRELOAD -x IOFAULT_PREFIX -x IOFAULT_COUNT \
    -x ASAN_OPTIONS "$ATHLETE_BIN" run --source "$SRC" --lake "$LAKE" --quiet ||
    fail "counting run"
  total=$(sort -n -k2 "$WORK/count" | tail -1 | cut -d' ' -f2)
  [ "$total" -gt 50 ] || fail "only $total I/O calls counted: the injector does not see the run"
  fingerprint | cmp -s - "$WORK/v0" || fail "a counting run changed the lake"
  if [ "$samples" = all ]; then
    ns=$(seq 1 "$total")
  else
    ns=$(/usr/bin/python3 -c "import sys; t, k = int(sys.argv[1]), int(sys.argv[2]); print(' '.join(str(max(1, round(1 + i * (t - 1) / (k - 1)))) for i in range(k)))" "$total" "$samples")
  fi
  configs="all"
  [ "$np" = 2 ] && configs="0 1 all"
  for who in $configs; do
    rank=$who
    [ "$who" = all ] && rank=
    for n in $ns; do
      errno=EIO
      persist=0
      [ $((n % 2)) = 0 ] && errno=ENOSPC
      [ $((n % 3)) = 0 ] && persist=1
      rc=$(run_with_fault "$np" "$n" "$rank" "$errno" "$persist")
      what="-np $np, rank ${who}, call $n ($errno, persist $persist)"
      case $rc in
      124 | 137) cat "$WORK/f.err" >&2; fail "$what: the run hung" ;;
      1)
        grep -q "error: .*$LAKE" "$WORK/f.err" ||
          { cat "$WORK/f.err" >&2; fail "$what: the error does not name a file of the lake"; }
        if [ "$np" = 2 ]; then
          grep -qE "error: \[rank [01]\]|\(rank [01]\)" "$WORK/f.err" ||
            { cat "$WORK/f.err" >&2; fail "$what: the error does not name the rank"; }
        fi
        ;;
      0) ;; # the failed call was retried (a metadata flush): the lake must still be whole
      *) cat "$WORK/f.err" >&2; fail "$what: exit $rc" ;;
      esac
      fingerprint | cmp -s - "$WORK/v0" ||
        { diff <(fingerprint) "$WORK/v0" >&2; fail "$what: a committed table changed"; }
      checked=$((checked + 1))
    done
    # The next run succeeds and removes what the failed runs left behind.
    mpi "$np" run --source "$SRC" --lake "$LAKE" --quiet || fail "-np $np: the run after the faults failed"
    left=$(find "$LAKE" -name '.*.tmp-*' | head -3)
    [ -z "$left" ] || fail "-np $np: temporary folders left after a good run: $left"
    fingerprint | cmp -s - "$WORK/v0" || fail "-np $np: the good run after the faults differs"
  done
done
echo "checked $checked injected failures"

# A real full disk: a 3 MB tmpfs lake at -np 2 (needs the right to mount, as root in CI).
mkdir -p "$WORK/tiny"
if mount -t tmpfs -o size=3m tmpfs "$WORK/tiny" 2>/dev/null; then
  trap 'umount "$WORK/tiny" 2>/dev/null || true; rm -rf "$WORK"' EXIT
  "$ATHLETE_BIN" gen --scale 0.012 --seed 3 --out "$WORK/big" --quiet
  rc=0
  timeout 60 "$ATHLETE_SRC/scripts/mpirun.sh" -np 2 "$ATHLETE_BIN" run \
    --source "$WORK/big" --lake "$WORK/tiny/lake" --max-reject-fraction 1 \
    >"$WORK/tiny.out" 2>"$WORK/tiny.err" || rc=$?
  [ "$rc" = 1 ] || { cat "$WORK/tiny.err" >&2; fail "full disk: exit $rc (124: hung)"; }
  expect_grep "error: .*(No space left on device|write failed)" "$WORK/tiny.err"
  [ -z "$(find "$WORK/tiny/lake" -name '.*.tmp-*')" ] || fail "full disk: temporary folders left"
  umount "$WORK/tiny"
else
  echo "full disk: cannot mount a tmpfs here (not root?): skipped"
fi
pass
