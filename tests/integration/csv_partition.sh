#!/usr/bin/env bash
# Byte-offset partitioned CSV reading under real MPI (issue 2, SPEC §6): for every hand-made
# edge file in data/edge/, two bigger quirky files and one whose last quote never closes,
# csv_dump gives the same canonical dump (rows, rejects with line/offset/reason/raw, totals) for
# -np 1, 2, 3, 4, for more ranks than records and with 1- and 7-byte read windows; the rows
# equal DuckDB's read_csv of the same file as a set; the error cases
# (empty file, missing required column, missing file) fail on every rank with a message
# naming the file.
# labels: mpi duckdb
# processors: 4
. "$(dirname "$0")/lib.sh"

DUMP=$ATHLETE_BUILD/tests/csv_dump
[ -x "$DUMP" ] || fail "missing $DUMP (build the csv_dump tool)"
EDGE=$ATHLETE_SRC/data/edge
# Full stacks so that Open MPI's leaks (from components it unloads) match tests/lsan.supp.
export LSAN_OPTIONS="$LSAN_OPTIONS:fast_unwind_on_malloc=0"
export LC_ALL=C

# Two bigger files with every quirk of SPEC §3 (deterministic): LF, and BOM + CRLF without a
# final newline. Quoted commas, "" escapes, quoted LF and CRLF, UTF-8, stray quotes inside
# unquoted fields, spaces around fields, empty and "" fields, blank lines, and broken records
# (wrong field count, invalid UTF-8).
python3 - "$WORK" <<'PY'
import random, sys
out = sys.argv[1]
def make(seed, nl, bom, final_nl):
    rnd = random.Random(seed)
    names = ["Ann", "Károly Bárány", "Zoë", "José", "Łukasz", "O'Brien", "李娜"]
    texts = ["plain", "with, comma", 'say "hi"', "two\nlines", "crlf\r\ninside",
             'called "Flash" by fans', " United States", "5'11\" tall", "", "4 × 100 metres Relay, Men"]
    def field(v):
        if v == "" and rnd.random() < 0.3:
            return '""'
        if any(c in v for c in ',\n\r') or v.startswith('"') or rnd.random() < 0.1:
            return '"' + v.replace('"', '""') + '"'
        return v
    rows = [b"id,name,country,description,notes"]
    for i in range(1, 2500):
        kind = rnd.random()
        if kind < 0.02:
            rows.append(b"")  # blank line
            continue
        vals = [str(i), rnd.choice(names), rnd.choice(["", " France", "Italy ", "\tSpain"]),
                rnd.choice(texts), rnd.choice(texts)]
        if kind < 0.03:
            vals.pop()  # a field short
        line = ",".join([vals[0]] + [field(v) for v in vals[1:]]).encode()
        if kind >= 0.03 and kind < 0.04:
            line += b",extra"
        elif kind >= 0.04 and kind < 0.05:
            line = line.replace(b",", b"\xff,", 1)  # invalid UTF-8 in the (unquoted) id
        rows.append(line)
    data = nl.join(rows) + (nl if final_nl else b"")
    return (b"\xef\xbb\xbf" if bom else b"") + data
open(out + "/quirky_lf.csv", "wb").write(make(1, b"\n", False, True))
open(out + "/quirky_bom_crlf.csv", "wb").write(make(2, b"\r\n", True, False))
# A quote that never closes, 45 KB before the end: the record crossing a rank's end is known to
# be broken and only its first 4 KiB are read (the "truncated" plan), and with small read
# windows the reader measures it instead of holding it whole.
rows = [b"id,name,note"] + [b'%d,n%d,"text, with comma\nand newline %d"' % (i, i, i) for i in range(1, 400)]
rows.append(b'400,bad,"this quote never closes, ' + b" ".join(("w\u00f6rd%d,\n" % k).encode() for k in range(4000)))
open(out + "/unterminated_tail.csv", "wb").write(b"\n".join(rows))
PY

# duck_rows FILE: DuckDB's rows of FILE in csv_dump's escaped "row<TAB>..." form, sorted.
# parallel=false: DuckDB's parallel CSV scanner (1.x) drops valid rows after it recovers from
# an ignored error near quoted newlines (1264 of 2385 rows of quirky_lf.csv); its serial scan
# keeps them.
duck_rows() {
  local file=$1 cols="" exprs="'row'" name
  for name in $(head -1 "$WORK/dump.1" | cut -f2- | tr '\t' ' '); do
    cols="$cols${cols:+, }'$name': 'VARCHAR'"
    exprs="$exprs, coalesce(replace(replace(replace(replace(\"$name\", '\\', '\\\\'), chr(9), '\\t'), chr(10), '\\n'), chr(13), '\\r'), '\\N')"
  done
  duck "SELECT concat_ws(chr(9), $exprs) FROM read_csv('$file', header=true, auto_detect=false,
        columns={$cols}, strict_mode=true, ignore_errors=true, quote='\"', escape='\"',
        delim=',', parallel=false)" | sort
}

# check_file FILE: same dump for every rank count; rows equal DuckDB's (as sets).
check_file() {
  local file=$1 np base
  base=$(basename "$file")
  "$ATHLETE_SRC/scripts/mpirun.sh" -np 1 "$DUMP" "$file" >"$WORK/dump.1" || fail "$base: np 1"
  local records
  records=$(awk -F'\t' '$1 == "total" { print $2 + $3 }' "$WORK/dump.1")
  local nps="2 3 4"
  [ "$records" -le 20 ] && nps="$nps $((records + 3))" # more ranks than records
  for np in $nps; do
    "$ATHLETE_SRC/scripts/mpirun.sh" -np "$np" "$DUMP" "$file" >"$WORK/dump.$np" ||
      fail "$base: np $np"
    cmp -s "$WORK/dump.1" "$WORK/dump.$np" || {
      diff "$WORK/dump.1" "$WORK/dump.$np" | head -20 >&2
      fail "$base: -np $np differs from -np 1"
    }
  done
  # Windows of a few bytes put a window end inside every kind of record and separator, and make
  # records outgrow the window (the slice is read through a window, 8 MiB by default).
  # The third field streams the rows through a sink, window by window, as `produce` reads.
  for run in "1 1 0" "3 7 0" "2 5 1"; do
    set -- $run
    "$ATHLETE_SRC/scripts/mpirun.sh" -np "$1" -x ATHLETE_READ_WINDOW="$2" -x CSV_DUMP_SINK="$3" \
      "$DUMP" "$file" >"$WORK/dump.w" || fail "$base: np $1 window $2 sink $3"
    cmp -s "$WORK/dump.1" "$WORK/dump.w" || {
      diff "$WORK/dump.1" "$WORK/dump.w" | head -20 >&2
      fail "$base: -np $1 with a $2-byte read window (sink $3) differs from -np 1"
    }
  done
  grep '^row' "$WORK/dump.1" >"$WORK/ours.rows" || true
  case $base in
  blank_lines.csv)
    # Known difference: with auto_detect off DuckDB takes the file's first line as the header
    # even when it is blank, so the real header line comes back as a data row. We skip blank
    # lines before the header (SPEC §3). Assert exactly that one extra row.
    head -1 "$WORK/dump.1" | sed 's/^header/row/' >>"$WORK/ours.rows"
    ;;
  quote_then_text.csv)
    # Known difference: in `2,"x"y,z` libcsv (non-strict) keeps the quote after x as a
    # literal and stays inside the quoted field, so record 2 runs to the end of the file and
    # is rejected as an unterminated quoted field (swallowing record 3); DuckDB's strict mode
    # rejects only line 2 and reads record 3. Assert both halves of that difference.
    grep -qxF $'reject\t3\t28\tunterminated quoted field\t2,"x"y,z\\n3,ok,ok\\n' \
      "$WORK/dump.1" || fail "$base: expected record 2 rejected as unterminated"
    printf 'row\t3\tok\tok\n' >>"$WORK/ours.rows"
    ;;
  esac
  sort -o "$WORK/ours.rows" "$WORK/ours.rows"
  duck_rows "$file" >"$WORK/duck.rows"
  if ! cmp -s "$WORK/ours.rows" "$WORK/duck.rows"; then
    diff "$WORK/ours.rows" "$WORK/duck.rows" >&2 || true
    fail "$base: rows differ from DuckDB read_csv"
  fi
  echo "ok $base: np 1 $nps identical, $(wc -l <"$WORK/ours.rows") rows = DuckDB"
}

for f in "$EDGE"/*.csv "$WORK"/unterminated_tail.csv "$WORK"/quirky_lf.csv "$WORK"/quirky_bom_crlf.csv; do
  case $(basename "$f") in empty.csv | missing_column.csv) continue ;; esac
  check_file "$f"
done

# The quirky files (the last one checked is in dump.1) do hold every kind of broken record.
for reason in "wrong field count" "invalid UTF-8"; do
  grep -q "^reject.*$reason" "$WORK/dump.1" || fail "quirky file has no '$reason' reject"
done

# Error cases: the same status and a message naming the file on every rank (and, with several
# ranks, the rank that found it: rank 0 reads the header; every rank opens the file).
for np in 1 3; do
  who=""
  [ $np -gt 1 ] && who='\[rank 0\] '
  expect_status 1 "$ATHLETE_SRC/scripts/mpirun.sh" -np $np "$DUMP" "$EDGE/empty.csv"
  [ "$(grep -c "error.${who}empty.csv: empty file (no header row)" "$WORK/last.err")" = $np ] ||
    fail "empty.csv: expected the error on all $np ranks"
  expect_status 1 "$ATHLETE_SRC/scripts/mpirun.sh" -np $np "$DUMP" "$EDGE/missing_column.csv" \
    id description
  [ "$(grep -c "error.${who}missing_column.csv: line 1: missing required column 'description'" \
    "$WORK/last.err")" = $np ] || fail "missing_column.csv: expected the error on all $np ranks"
  expect_status 1 "$ATHLETE_SRC/scripts/mpirun.sh" -np $np "$DUMP" "$WORK/no-such-file.csv"
  [ "$(grep -c "error.${who}no-such-file.csv: cannot open" "$WORK/last.err")" = $np ] ||
    fail "missing file: expected the error on all $np ranks"
done
pass
