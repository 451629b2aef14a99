#!/usr/bin/env bash
# labels: mpi
# processors: 2
# A URL source is downloaded once (rank 0, libcurl) into LAKE/landing/ and gives the same bronze as
# the folder itself; a missing URL fails cleanly.
source "$(dirname "$0")/lib.sh"

"$ATHLETE_BIN" gen --scale 0.01 --seed 3 --out "$WORK/src" --quiet
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
/usr/bin/python3 -m http.server "$port" --bind 127.0.0.1 --directory "$WORK/src" >"$WORK/http.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$port/" >/dev/null && break
  sleep 0.1
done

mpi 2 landing-to-bronze --source "http://127.0.0.1:$port/" --lake "$WORK/url" 2>"$WORK/url.err" ||
  { cat "$WORK/url.err" >&2; fail "URL source"; }
expect_grep "downloaded athlete_bio.csv" "$WORK/url.err"
cmp "$WORK/src/athlete_bio.csv" "$WORK/url/landing/athlete_bio.csv" || fail "download differs"
[ "$(grep -c 'GET /athlete_bio.csv' "$WORK/http.log")" = 1 ] || fail "the file was not downloaded exactly once"
mpi 2 landing-to-bronze --source "$WORK/src" --lake "$WORK/dir" --quiet || fail "folder source"
for t in athlete_bio athlete_event_results; do
  export_parquet "$WORK/url/bronze/$t/*.parquet" "$WORK/a.csv"
  export_parquet "$WORK/dir/bronze/$t/*.parquet" "$WORK/b.csv"
  rows csv "$WORK/a.csv" "$WORK/b.csv" || fail "$t: URL and folder sources differ"
done

expect_status 1 mpi 2 landing-to-bronze --source "http://127.0.0.1:$port/missing" --lake "$WORK/bad"
expect_grep "cannot download http://127.0.0.1:$port/missing/athlete_bio.csv" "$WORK/last.err"
pass
