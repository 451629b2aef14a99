#!/usr/bin/env bash
# Silver and gold are one answer for any rank count and partitioning: tests/tools/xform_check
# builds a deterministic bronze-like dataset with every SPEC §3/§4 quirk (ranges like 60-64,
# exponents, signs, non-ASCII to clean away, rows that only become duplicates after cleaning,
# duplicates across rank boundaries, invalid and missing athlete_ids, results without bio rows,
# several bio rows per athlete), splits it across 1..4 ranks at different random cut points,
# runs silver_transform + silver_dedupe + gold_compute, and dumps silver and rejects as sorted
# sets, gold in order with doubles as bits, and the global counts. Every run must give the
# same bytes as the 1-rank run; one run uses a 97-byte round size (rows split across many
# MPI_Alltoallv rounds, each checked against the bound) and one has more ranks than rows.
# labels: mpi
# processors: 4
source "$(dirname "$0")/lib.sh"
# See h5_roundtrip.sh: full stacks let tests/lsan.supp match Open MPI's unloaded plugins.
export LSAN_OPTIONS="$LSAN_OPTIONS:fast_unwind_on_malloc=0"

TOOL=$ATHLETE_BUILD/tests/xform_check
[ -x "$TOOL" ] || fail "$TOOL not built"

run() { # run NAME NP ARGS...
  local name=$1 np=$2
  shift 2
  mkdir -p "$WORK/$name"
  "$ATHLETE_SRC/scripts/mpirun.sh" -np "$np" "$TOOL" --out "$WORK/$name" "$@" \
    >"$WORK/$name.log" 2>&1 || {
    cat "$WORK/$name.log" >&2
    fail "xform_check $name on $np ranks"
  }
}

same_run() { # same_run A B: every dump of run B equals run A's
  for f in "$WORK/$1"/*; do
    same_file "$f" "$WORK/$2/$(basename "$f")"
  done
}

rows=3000
run np1 1 --rows $rows --seed 5
run np2 2 --rows $rows --seed 5 --split 0
run np2b 2 --rows $rows --seed 5 --split 11
run np3 3 --rows $rows --seed 5 --split 23 --round-bytes 97
run np4 4 --rows $rows --seed 5 --split 42 --round-bytes 4096
for r in np2 np2b np3 np4; do same_run np1 "$r"; done
# The 97-byte run really went through many small rounds (xform_check itself fails when an
# MPI_Alltoallv moves more than --round-bytes, and when shuffled rows arrive out of order).
rounds=$(sed -n 's/^xform_check: \([0-9]*\) MPI_Alltoallv rounds.*/\1/p' "$WORK/np3.log")
[ "${rounds:-0}" -gt 1000 ] || fail "97-byte rounds: only ${rounds:-0} MPI_Alltoallv calls"

# The dataset really has the quirks the comparison is about (counts are not trivially zero).
stat() { awk -v k="$1" '$1 == k { print $2 }' "$WORK/np1/stats.txt"; }
for k in rejects_bio rejects_results dropped_bio dropped_results without_bio; do
  [ "$(stat $k)" -gt 0 ] || fail "$k is $(stat $k): the generator lost a quirk"
done
[ "$(stat groups)" -gt 100 ] || fail "only $(stat groups) gold groups"
[ "$(wc -l <"$WORK/np1/gold.txt")" = "$(stat groups)" ] || fail "gold rows != groups"
# 60-64 and "72, 74" never turn into numbers (6064, 7274).
if grep -Eq '\((6064|7274)\)' "$WORK/np1/silver_athlete_bio.txt"; then
  fail "a malformed height/weight became a number"
fi
# No row of silver appears twice (the dump is sorted).
for t in athlete_bio athlete_event_results; do
  [ -z "$(uniq -d "$WORK/np1/silver_$t.txt")" ] || fail "duplicate rows left in silver $t"
done

# More ranks than rows (ranks with nothing to send or receive), and an empty dataset.
run tiny1 1 --rows 3 --seed 8
run tiny4 4 --rows 3 --seed 8 --split 3
same_run tiny1 tiny4
run empty3 3 --rows 0 --seed 8 --round-bytes 1
[ ! -s "$WORK/empty3/gold.txt" ] || fail "gold of an empty dataset is not empty"
pass
