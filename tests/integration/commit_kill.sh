#!/usr/bin/env bash
# labels: mpi
# processors: 2
# SPEC §7: a run killed mid-write (kill -9 of one rank) leaves the previous bronze intact and
# readable, and a rerun succeeds.
source "$(dirname "$0")/lib.sh"

"$ATHLETE_BIN" gen --scale 0.01 --seed 1 --out "$WORK/small" --quiet
"$ATHLETE_BIN" gen --scale 0.5 --seed 2 --out "$WORK/big" --quiet
mpi 2 landing-to-bronze --source "$WORK/small" --lake "$WORK/lake" --quiet || fail "first run"
before=$(cd "$WORK/lake/bronze" && find . -type f | sort | xargs md5sum)
count_before=$(duck "SELECT count(*) FROM read_parquet('$WORK/lake/bronze/athlete_bio/*.parquet')")

# Start a second, larger run and kill -9 one rank as soon as it writes a temporary folder. On a
# loaded machine the run may end between the look and the kill; then the lake is put back to
# the small version and the attempt repeated.
killed=0
for attempt in 1 2 3 4 5; do
  mpi 2 landing-to-bronze --source "$WORK/big" --lake "$WORK/lake" --quiet >"$WORK/run2.log" 2>&1 &
  launcher=$!
  while kill -0 "$launcher" 2>/dev/null; do
    if compgen -G "$WORK/lake/bronze/.athlete_*.tmp-*" >/dev/null ||
      compgen -G "$WORK/lake/rejects/.athlete_*.tmp-*" >/dev/null; then
      for pid in $(pgrep -f "^$ATHLETE_BIN landing-to-bronze --source $WORK/big" || true); do
        kill -9 "$pid" 2>/dev/null && killed=1 && break
      done
      [ "$killed" = 1 ] && break
    fi
    sleep 0.02
  done
  status=0
  wait "$launcher" || status=$?
  [ "$killed" = 1 ] && break
  echo "attempt $attempt: the run ended before a rank could be killed; again"
  mpi 2 landing-to-bronze --source "$WORK/small" --lake "$WORK/lake" --quiet || fail "reset run"
  before=$(cd "$WORK/lake/bronze" && find . -type f | sort | xargs md5sum)
done
[ "$killed" = 1 ] || fail "never managed to kill a rank while the second run wrote"
[ "$status" != 0 ] || fail "the killed run exited 0"

after=$(cd "$WORK/lake/bronze" && find . -type f -not -path './.*' | sort | xargs md5sum)
[ "$before" = "$after" ] || fail "previous bronze changed after a killed run"
count_after=$(duck "SELECT count(*) FROM read_parquet('$WORK/lake/bronze/athlete_bio/*.parquet')")
[ "$count_before" = "$count_after" ] || fail "previous bronze unreadable: $count_before vs $count_after"
/usr/bin/python3 -c "import h5py,sys; h5py.File(sys.argv[1],'r')" \
  "$WORK/lake/bronze/athlete_bio/athlete_bio.h5" || fail "previous HDF5 unreadable"

# A rerun succeeds, replaces the table and removes the stale temporary folders.
mpi 2 landing-to-bronze --source "$WORK/big" --lake "$WORK/lake" --quiet || fail "rerun"
[ -f "$WORK/lake/bronze/athlete_bio/_SUCCESS" ] || fail "rerun did not commit"
! compgen -G "$WORK/lake/bronze/.athlete_bio.tmp-*" >/dev/null || fail "stale temporary folder left"
count_big=$(duck "SELECT count(*) FROM read_parquet('$WORK/lake/bronze/athlete_bio/*.parquet')")
[ "$count_big" -gt "$count_before" ] || fail "rerun did not replace bronze"
pass
