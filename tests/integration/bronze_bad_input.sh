#!/usr/bin/env bash
# labels: mpi
# processors: 2
# Bad input never crashes and never silently changes data: each case gives a clear message naming
# the file (and line), the documented exit code, and quarantined rows where rows exist.
ATHLETE_LEAK_CHECK=1 # the whole pipeline (and its error paths) under LeakSanitizer
source "$(dirname "$0")/lib.sh"

bio_header='athlete_id,name,sex,born,height,weight,country,country_noc,description,special_notes'
res_header='edition,edition_id,country_noc,sport,event,result_id,athlete,athlete_id,pos,medal,isTeamSport'
good_results() { printf '%s\n1908 Summer Olympics,5,FRA,Athletics,"100 metres, Men",1,A,1,1,Gold,False\n' "$res_header"; }

case_dir() { # case_dir NAME BIO-CONTENT: a source folder with the given bio and good results
  mkdir -p "$WORK/$1"
  printf '%b' "$2" >"$WORK/$1/athlete_bio.csv"
  good_results >"$WORK/$1/athlete_event_results.csv"
}

# Usage errors: exit 2.
expect_status 2 mpi 2 landing-to-bronze --lake "$WORK/l"
expect_grep "source" "$WORK/last.err"
expect_status 2 "$ATHLETE_BIN" run --source x --bogus
expect_grep "unknown option '--bogus'" "$WORK/last.err"
expect_status 2 "$ATHLETE_BIN" nosuchcommand
expect_status 2 "$ATHLETE_BIN" run --source x --max-reject-fraction 2
for c in run landing-to-bronze bronze-to-silver silver-to-gold gen show; do
  "$ATHLETE_BIN" "$c" --help | grep -q "usage: " || fail "$c --help"
done

# A missing source file: exit 1 naming it.
mkdir -p "$WORK/nobio"
good_results >"$WORK/nobio/athlete_event_results.csv"
expect_status 1 mpi 2 landing-to-bronze --source "$WORK/nobio" --lake "$WORK/l1"
expect_grep "nobio/athlete_bio.csv" "$WORK/last.err"

# An empty file: exit 1, "no header".
case_dir empty ''
expect_status 1 mpi 2 landing-to-bronze --source "$WORK/empty" --lake "$WORK/l2"
expect_grep "athlete_bio.csv.*(empty|header)" "$WORK/last.err"

# A missing required column: exit 1 naming file and column.
case_dir nocol 'athlete_id,name,sex,born,height,weight,country,description,special_notes\n1,a,b,c,d,e,f,g,h\n'
expect_status 1 mpi 2 landing-to-bronze --source "$WORK/nocol" --lake "$WORK/l3"
expect_grep "athlete_bio.csv.*country_noc" "$WORK/last.err"

# Only a header: fine, zero rows, valid empty files.
case_dir header "$bio_header\n"
expect_status 0 mpi 2 landing-to-bronze --source "$WORK/header" --lake "$WORK/l4" --quiet
[ "$(duck "SELECT count(*) FROM read_parquet('$WORK/l4/bronze/athlete_bio/*.parquet')")" = 0 ] ||
  fail "header-only bronze should have 0 rows"

# Broken records: quarantined with file, line, reason; exit 3 when too many, 0 when allowed.
broken="$bio_header\n1,a,Male,1900,180,80,X,XXX,d,n\n2,b,Male,1900,180,80,X,XXX,d\n3,c,Male,1900,180,80,X,XXX,\"d\nmore\",n\n4,\xff\xfe,Male,1900,180,80,X,XXX,d,n\n5,e,Male,1900,180,80,X,XXX,\"unterminated,n\n6,f,Male,,,,X,XXX,d,n\n"
case_dir broken "$broken"
expect_status 3 mpi 2 landing-to-bronze --source "$WORK/broken" --lake "$WORK/l5"
expect_grep "athlete_bio.csv.*rejected.*max-reject-fraction" "$WORK/last.err"
[ ! -e "$WORK/l5/bronze/athlete_bio/_SUCCESS" ] || fail "bronze committed despite exit 3"
expect_status 0 mpi 2 landing-to-bronze --source "$WORK/broken" --lake "$WORK/l5" \
  --max-reject-fraction 1 --quiet
duck "SELECT line, reason FROM read_parquet('$WORK/l5/rejects/athlete_bio/*.parquet') ORDER BY line" \
  >"$WORK/rejects.tsv"
cat "$WORK/rejects.tsv" >&2
[ "$(wc -l <"$WORK/rejects.tsv")" = 3 ] || fail "expected 3 rejects (field count, UTF-8, unterminated quote)"
expect_grep "^3	.*field" "$WORK/rejects.tsv"
expect_grep "^6	.*UTF-8" "$WORK/rejects.tsv"
expect_grep "^7	.*(unterminated|quote)" "$WORK/rejects.tsv"
[ "$(duck "SELECT string_agg(athlete_id, ',' ORDER BY athlete_id) FROM read_parquet('$WORK/l5/bronze/athlete_bio/*.parquet')")" = "1,3" ] ||
  fail "bronze should hold records 1 and 3 (3 with its quoted newline)"
duck "SELECT DISTINCT source_file FROM read_parquet('$WORK/l5/rejects/athlete_bio/*.parquet')" |
  grep -q "broken/athlete_bio.csv" || fail "rejects must name the source file"

# A later stage refuses an input table without _SUCCESS.
expect_status 1 mpi 2 bronze-to-silver --lake "$WORK/nothing"
expect_grep "_SUCCESS" "$WORK/last.err"
pass
