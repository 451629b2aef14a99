#!/usr/bin/env bash
# Parallel HDF5 tables: tests/tools/h5_roundtrip writes a random table (every type, nulls, empty
# strings, NUL bytes, non-ASCII, a rank without rows) and an empty table on 1, 2, 3 and 4 ranks,
# reads them back with the same and a different rank count, and checks its errors; then h5py
# (through tests/integration/h5_reader.py, the README's snippet) reads every file on its own
# and must give the same rows as the tool's text dump, and h5dump -H must show the layout.
# labels: mpi h5py
# processors: 4
source "$(dirname "$0")/lib.sh"
# Under ASan, LeakSanitizer's fast unwinder stops inside Open MPI's plugins (unloaded at
# MPI_Finalize, so their frames show as "<unknown module>") and tests/lsan.supp cannot match
# them; the slow unwinder gives full stacks that it does match. Our own leaks still show.
export LSAN_OPTIONS="$LSAN_OPTIONS:fast_unwind_on_malloc=0"

TOOL=$ATHLETE_BUILD/tests/h5_roundtrip
PY=/usr/bin/python3
[ -x "$TOOL" ] || fail "$TOOL not built"

for np in 1 2 3 4; do
  dir=$WORK/np$np
  mkdir -p "$dir"
  args=(--seed $((np * 7)))
  # On 3 ranks, 64-byte pieces: every dataset takes many write and read calls.
  [ "$np" = 3 ] && args+=(--piece 64)
  "$ATHLETE_SRC/scripts/mpirun.sh" -np "$np" "$TOOL" "$dir" "${args[@]}" >"$dir/out" 2>&1 || {
    cat "$dir/out" >&2
    fail "h5_roundtrip on $np ranks"
  }
  expect_grep "^h5_roundtrip: $np ranks, 0 failures, " "$dir/out"
  for name in table empty; do
    "$PY" "$ATHLETE_SRC/tests/integration/h5_check.py" "$dir" "$name" || fail "h5py check, $np ranks, $name"
  done
  [ "$(wc -w <"$dir/table.parts")" = "$np" ] || fail "expected $np partitions"
done

# Same rows, same rank count: the same bytes (no modification times, no stale memory in
# unused metadata space: the empty table must hold none of the table's text) -- also when the
# files are created by forking rank 0 rather than by the helper process (ATHLETE_H5_HELPER=0).
mkdir -p "$WORK/again"
ATHLETE_H5_HELPER=0 "$ATHLETE_SRC/scripts/mpirun.sh" -np 3 -x ATHLETE_H5_HELPER "$TOOL" \
  "$WORK/again" --seed 21 >"$WORK/again/out" 2>&1 || fail "h5_roundtrip rerun on 3 ranks"
expect_grep "^h5_roundtrip: 3 ranks, 0 failures, .*, [1-9][0-9]* files created by the helper" \
  "$WORK/np3/out"
expect_grep "^h5_roundtrip: 3 ranks, 0 failures, .*, 0 files created by the helper" "$WORK/again/out"
same_file "$WORK/again/table.h5" "$WORK/np3/table.h5"
same_file "$WORK/again/empty.h5" "$WORK/np3/empty.h5"
! grep -aq "United States" "$WORK/np4/empty.h5" || fail "stale table text inside empty.h5"

# Direct I/O (the default where the file system takes O_DIRECT): up to 20000 rows per rank and
# 4 KiB direct writes, so every share has an unaligned head and tail around an aligned middle of
# many writes (string offsets rebased and narrowed on the way). The rows must read back, and the
# file must have the same bytes as one written through the page cache alone.
if dd if=/dev/zero of="$WORK/probe" bs=4096 count=1 oflag=direct 2>/dev/null; then
  for io in direct buffered; do
    mkdir -p "$WORK/$io"
    "$ATHLETE_SRC/scripts/mpirun.sh" -np 3 "$TOOL" "$WORK/$io" --seed 5 --rows-max 20000 \
      --direct-chunk 4096 --io $io >"$WORK/$io/out" 2>&1 || {
      cat "$WORK/$io/out" >&2
      fail "h5_roundtrip with --io $io"
    }
  done
  expect_grep "^h5_roundtrip: 3 ranks, 0 failures, [1-9][0-9]* bytes written direct" "$WORK/direct/out"
  expect_grep "^h5_roundtrip: 3 ranks, 0 failures, 0 bytes written direct" "$WORK/buffered/out"
  same_file "$WORK/direct/table.h5" "$WORK/buffered/table.h5"
  "$PY" "$ATHLETE_SRC/tests/integration/h5_check.py" "$WORK/direct" table || fail "h5py check, direct"
else
  echo "note: $WORK takes no O_DIRECT; the direct-I/O case is not run here"
fi

# The layout as h5dump sees it.
h5dump -H "$WORK/np3/table.h5" >"$WORK/dump.txt" || fail "h5dump -H"
for want in 'DATASET "_partitions"' 'GROUP "name"' 'DATASET "offsets"' 'DATASET "bytes"' \
  'DATASET "values"' 'DATASET "valid"' 'ATTRIBUTE "format"' 'ATTRIBUTE "rows"' \
  'ATTRIBUTE "index"' 'ATTRIBUTE "nullable"' 'H5T_STD_I64LE' 'H5T_STD_U8LE' 'H5T_IEEE_F64LE' \
  'SIMPLE \{ \( 3 \) / \( 3 \) \}'; do
  expect_grep "$want" "$WORK/dump.txt"
done
h5dump -a /format "$WORK/np3/table.h5" >"$WORK/format.txt" || fail "h5dump -a /format"
expect_grep '"athlete-table-1"' "$WORK/format.txt"
h5dump -H "$WORK/np4/empty.h5" >"$WORK/empty.txt" || fail "h5dump -H of the empty table"
expect_grep 'SIMPLE \{ \( 0 \) / \( 0 \) \}' "$WORK/empty.txt"

# A file read by a later job with another rank count: written on 4 and 3 ranks, read on 2, 3
# and 1; the ranks' slices, in rank order, must be the whole table.
for case in "4 2" "3 2" "4 3" "2 1"; do
  set -- $case
  dir=$WORK/np$1
  rm -f "$dir"/table.read*
  "$ATHLETE_SRC/scripts/mpirun.sh" -np "$2" "$TOOL" "$dir" --read table >"$WORK/read.out" 2>&1 || {
    cat "$WORK/read.out" >&2
    fail "reading the $1-rank file on $2 ranks"
  }
  for ((r = 0; r < $2; r++)); do cat "$dir/table.read$r"; done >"$WORK/read.tsv"
  same_file "$WORK/read.tsv" "$dir/table.tsv"
done
pass
