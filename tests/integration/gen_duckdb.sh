#!/usr/bin/env bash
# labels: duckdb
# processors: 1
# `athlete gen` output read back by independent readers: DuckDB's read_csv (all VARCHAR,
# auto_detect off, strict_mode and ignore_errors on) and Python's csv module. Checks that the
# CLI is deterministic, that DuckDB keeps every record except exactly the structurally broken
# ones that Python also finds, and a few value distributions in SQL.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SCALE=0.05
"$ATHLETE_BIN" gen --scale "$SCALE" --seed 11 --out "$WORK/d" >/dev/null 2>"$WORK/gen.err" ||
  { cat "$WORK/gen.err" >&2; fail "athlete gen failed"; }
"$ATHLETE_BIN" gen --scale "$SCALE" --seed 11 --out "$WORK/d2" >/dev/null 2>&1 || fail "gen 2"
same_file "$WORK/d/athlete_bio.csv" "$WORK/d2/athlete_bio.csv"
same_file "$WORK/d/athlete_event_results.csv" "$WORK/d2/athlete_event_results.csv"

exp_bio=$(awk -v s="$SCALE" 'BEGIN { printf "%.0f", s * 155861 }')
exp_res=$(awk -v s="$SCALE" 'BEGIN { printf "%.0f", s * 316834 }')

# Python's csv module: records, wrong field counts, records with invalid UTF-8.
read -r py_bio py_bio_wrong py_bio_utf8 py_res py_res_wrong py_res_utf8 < <(
  python3 - "$WORK/d" <<'PY'
import csv, io, sys
out = []
for name, nf in (("athlete_bio.csv", 10), ("athlete_event_results.csv", 11)):
    raw = open(f"{sys.argv[1]}/{name}", "rb").read()
    text = raw.decode("utf-8", "surrogateescape").lstrip("\ufeff")
    rows = [r for r in csv.reader(io.StringIO(text, newline="")) if r][1:]
    bad_utf8 = sum(1 for r in rows if len(r) == nf and any("\udc80" <= c <= "\udcff" for f in r for c in f))
    out += [len(rows), sum(1 for r in rows if len(r) != nf), bad_utf8]
print(*out)
PY
)
[ "$py_bio" = "$exp_bio" ] || fail "python reads $py_bio bio records, expected $exp_bio"
[ "$py_res" = "$exp_res" ] || fail "python reads $py_res results records, expected $exp_res"

bio_cols="{'athlete_id':'VARCHAR','name':'VARCHAR','sex':'VARCHAR','born':'VARCHAR','height':'VARCHAR','weight':'VARCHAR','country':'VARCHAR','country_noc':'VARCHAR','description':'VARCHAR','special_notes':'VARCHAR'}"
res_cols="{'edition':'VARCHAR','edition_id':'VARCHAR','country_noc':'VARCHAR','sport':'VARCHAR','event':'VARCHAR','result_id':'VARCHAR','athlete':'VARCHAR','athlete_id':'VARCHAR','pos':'VARCHAR','medal':'VARCHAR','isTeamSport':'VARCHAR'}"
opts="auto_detect=false, header=true, strict_mode=true, ignore_errors=true, delim=',', quote='\"', escape='\"'"

# duck_count FILE COLUMNS: prints "rows rejected" as DuckDB reads them.
duck_count() {
  cat >"$WORK/count.sql" <<SQL
CREATE TABLE t AS SELECT * FROM read_csv('$1', columns=$2, $opts, store_rejects=true);
SELECT (SELECT count(*) FROM t), (SELECT count(*) FROM reject_errors)
SQL
  duck -f "$WORK/count.sql"
}
read -r dk_bio dk_bio_rej < <(duck_count "$WORK/d/athlete_bio.csv" "$bio_cols")
read -r dk_res dk_res_rej < <(duck_count "$WORK/d/athlete_event_results.csv" "$res_cols")
echo "bio: expected $exp_bio, duckdb $dk_bio (+$dk_bio_rej rejected), python wrong-count" \
  "$py_bio_wrong, invalid utf-8 $py_bio_utf8"
echo "results: expected $exp_res, duckdb $dk_res (+$dk_res_rej rejected), python wrong-count" \
  "$py_res_wrong, invalid utf-8 $py_res_utf8"
# DuckDB rejects exactly the structurally broken records Python finds (wrong field count,
# invalid UTF-8) and keeps every other one.
[ "$py_bio_wrong" -gt 0 ] && [ "$py_res_wrong" -gt 0 ] || fail "no wrong-field-count records"
[ "$py_bio_utf8" -gt 0 ] && [ "$py_res_utf8" -gt 0 ] || fail "no invalid UTF-8 records"
[ "$dk_bio_rej" = $((py_bio_wrong + py_bio_utf8)) ] || fail "duckdb rejected $dk_bio_rej bio rows"
[ "$dk_res_rej" = $((py_res_wrong + py_res_utf8)) ] || fail "duckdb rejected $dk_res_rej results"
[ "$dk_bio" = $((exp_bio - dk_bio_rej)) ] || fail "duckdb kept $dk_bio bio rows"
[ "$dk_res" = $((exp_res - dk_res_rej)) ] || fail "duckdb kept $dk_res results"

# Value distributions.
cat >"$WORK/dist.sql" <<SQL
CREATE TABLE bio AS SELECT * FROM read_csv('$WORK/d/athlete_bio.csv', columns=$bio_cols, $opts);
CREATE TABLE res AS SELECT * FROM read_csv('$WORK/d/athlete_event_results.csv', columns=$res_cols, $opts);
SELECT
  (SELECT count_if(medal = 'Gold') / count(*) FROM res),
  (SELECT avg((medal IS NOT NULL)::INT) FROM res),
  (SELECT avg((NOT regexp_full_match(trim(height), '[0-9]+(\\.[0-9]+)?'))::INT) FROM bio WHERE height IS NOT NULL),
  (SELECT count(*) FROM bio WHERE weight IN ('60-64', '72, 74')),
  (SELECT avg((description IS NOT NULL)::INT) FROM bio),
  (SELECT avg(length(description)) FROM bio),
  (SELECT count(*) FROM bio WHERE description LIKE '%' || chr(13) || chr(10) || '%'),
  (SELECT avg((country LIKE ' %')::INT) FROM bio),
  (SELECT count(DISTINCT country_noc) FROM bio),
  (SELECT string_agg(DISTINCT sex, '/' ORDER BY sex) FROM bio),
  (SELECT string_agg(DISTINCT isTeamSport, '/' ORDER BY isTeamSport) FROM res),
  (SELECT avg((b.athlete_id IS NOT NULL)::INT) FROM res r LEFT JOIN (SELECT DISTINCT athlete_id FROM bio) b USING (athlete_id)),
  (SELECT count(*) FROM (SELECT athlete_id FROM res GROUP BY athlete_id HAVING count(*) >= 3)),
  (SELECT count(*) FROM res WHERE event LIKE '%×%,%'),
  (SELECT count(*) FROM res WHERE pos LIKE '=%' OR pos = 'DNS' OR pos LIKE '% h%r%')
SQL
read -r gold medal nonnum ranges desc desclen crlf lead nocs sexes team joined multi evx pos \
  < <(duck -f "$WORK/dist.sql")
echo "gold $gold, medal $medal, non-numeric height $nonnum, weight ranges $ranges," \
  "description $desc (avg $desclen bytes, $crlf with CRLF), leading-space country $lead," \
  "$nocs NOCs, sex $sexes, isTeamSport $team, results joined $joined, athletes with 3+ results" \
  "$multi, × events $evx, special positions $pos"
# between NAME VALUE LO HI
between() {
  awk -v v="$2" -v lo="$3" -v hi="$4" 'BEGIN { exit !(v >= lo && v <= hi) }' ||
    fail "$1 = $2, expected between $3 and $4"
}
between "gold share" "$gold" 0.02 0.08
between "medal share" "$medal" 0.08 0.20
between "non-numeric height share" "$nonnum" 0.0001 0.03
between "weight ranges" "$ranges" 1 1000000
between "description share" "$desc" 0.35 0.60
between "description length" "$desclen" 300 2000
between "descriptions with CRLF" "$crlf" 1 1000000
between "leading-space country share" "$lead" 0.80 1
between "distinct NOCs" "$nocs" 150 300
[ "$sexes" = "Female/Male" ] || fail "sex values $sexes"
[ "$team" = "False/True" ] || fail "isTeamSport values $team"
between "joined share" "$joined" 0.95 0.995
between "athletes with 3+ results" "$multi" 100 1000000
between "events with × and a comma" "$evx" 1 1000000
between "special positions" "$pos" 1 1000000
pass
