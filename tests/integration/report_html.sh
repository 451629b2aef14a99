#!/usr/bin/env bash
# labels: mpi duckdb chromium
# processors: 2
# athlete report over a run on data/: the page is rendered by headless Chromium (through the
# DevTools protocol, tests/integration/report_check.mjs) with no network request and no console
# message; every chart holds the number of marks that DuckDB computes independently from gold's
# Parquet file and the rejects tables, with its axis labels and legends; the page does not
# overflow a 400-pixel window; the screenshot is not blank; every SVG is well-formed XML. The
# checker itself is shown to catch a page that fetches and logs.
source "$(dirname "$0")/lib.sh"
command -v chromium >/dev/null || fail "chromium not installed (scripts/install-deps.sh)"
L="$WORK/lake"
mpi 2 run --source "$ATHLETE_SRC/data" --lake "$L" --quiet || fail "run"
"$ATHLETE_BIN" report --lake "$L" --out "$WORK/report.html" 2>"$WORK/report.err" ||
  fail "report: $(cat "$WORK/report.err")"
expect_grep "wrote $WORK/report.html" "$WORK/report.err"
check() { TMPDIR=$WORK node --experimental-websocket "$ATHLETE_SRC/tests/integration/report_check.mjs" "$@"; }
check "$WORK/report.html" "$WORK/wide.png" 1000 >"$WORK/wide.json" || fail "chromium (1000 px)"
check "$WORK/report.html" "$WORK/narrow.png" 400 >"$WORK/narrow.json" || fail "chromium (400 px)"

# What the charts must hold, from DuckDB over gold's Parquet and the rejects tables.
G="'$L/gold/avg_stats/*.parquet'"
SEX="CASE sex WHEN 'Female' THEN 0 WHEN 'Male' THEN 1 ELSE 2 END"
per_sport="SELECT sport, $SEX AS s FROM $G WHERE sport IS NOT NULL @WHERE@ GROUP BY ALL
  HAVING sum(n_rows) FILTER (avg_height IS NOT NULL) > 0 AND sum(n_rows) FILTER (avg_weight IS NOT NULL) > 0"
all=$(duck "SELECT count(*) FROM (${per_sport//@WHERE@/})")
medal=$(duck "SELECT count(*) FROM (${per_sport//@WHERE@/AND medal IS NOT NULL})")
top="SELECT country_noc, sum(n_rows) AS m FROM $G WHERE medal IS NOT NULL AND country_noc IS NOT NULL
  GROUP BY ALL ORDER BY m DESC, country_noc LIMIT 15"
segments=$(duck "SELECT count(*) FROM (SELECT country_noc, CASE WHEN medal IN ('Gold','Silver','Bronze')
  THEN medal ELSE 'other' END FROM $G WHERE medal IS NOT NULL AND country_noc IN (SELECT country_noc FROM ($top))
  GROUP BY ALL HAVING sum(n_rows) > 0)")
countries=$(duck "SELECT string_agg(country_noc, ',' ORDER BY m DESC, country_noc) FROM ($top)")
rejects=$(duck "SELECT count(DISTINCT (regexp_extract(filename, 'rejects/([^/]+)/', 1),
  rtrim(regexp_extract(reason, '^[^:'']*')))) FROM read_parquet('$L/rejects/*/*.parquet', filename = true)")
[ "$all" -gt 20 ] && [ "$medal" -gt 10 ] && [ "$rejects" -gt 3 ] || fail "too little data: $all $medal $rejects"

/usr/bin/python3 - "$WORK" "$L" "$all" "$medal" "$segments" "$countries" "$rejects" <<'EOF' || fail "report contents"
import glob, json, re, sys, xml.dom.minidom
from PIL import Image
work, lake, n_all, n_medal, n_seg, countries, n_rej = sys.argv[1:]
errors = []
def expect(cond, what):
    if not cond: errors.append(what)
wide = json.load(open(f'{work}/wide.json'))
narrow = json.load(open(f'{work}/narrow.json'))
for page in (wide, narrow):
    expect(page['requests'] == [], f"network requests: {page['requests']}")
    expect(page['console'] == [], f"console messages: {page['console']}")
    expect(page['scripts'] == 0, 'the page holds scripts')
expect(not narrow['overflows'], 'the page overflows a 400 px window')
charts = {c['id']: c for c in wide['charts']}
want_ids = ['chart-size-all', 'chart-size-medal', 'chart-countries', 'chart-stages',
            'chart-rejects', 'chart-steps', 'chart-memory']
expect(list(charts) == want_ids, f'charts {list(charts)}')
marks = lambda k: charts.get(k, {}).get('marks')
expect(marks("chart-size-all") == int(n_all), f"size-all: {marks('chart-size-all')} marks, want {n_all}")
expect(marks('chart-size-medal') == int(n_medal), f"size-medal: {marks('chart-size-medal')}, want {n_medal}")
expect(marks('chart-countries') == int(n_seg), f"countries: {marks('chart-countries')}, want {n_seg}")
expect(charts['chart-countries']['bar_labels'] == countries.split(','),
       f"countries: {charts['chart-countries']['bar_labels']} want {countries}")
expect(marks('chart-rejects') == int(n_rej), f"rejects: {marks('chart-rejects')}, want {n_rej}")
for k in ('chart-size-all', 'chart-size-medal'):
    expect(charts[k]['axis_labels'] == ['average weight (kg)', 'average height (cm)'], f'{k} axes')
    expect(charts[k]['legend'][:2] == ['Female', 'Male'], f'{k} legend')
expect(charts['chart-countries']['legend'] == ['Gold', 'Silver', 'Bronze', 'other'], 'medal legend')
# Stages, steps and memory against the manifests.
man = {p.split('/')[-3] + '/' + p.split('/')[-2]: json.load(open(p))
       for p in glob.glob(f'{lake}/*/*/_manifest.json')}
segs = 0
for key in ['bronze/athlete_bio', 'bronze/athlete_event_results', 'silver/athlete_bio',
            'silver/athlete_event_results', 'gold/avg_stats']:
    st = man[key]['stage']
    kept = st.get('joined_rows', st['rows_out'])
    segs += sum(1 for v in (kept, st['rejects'], st['duplicates'], st.get('results_without_bio', 0)) if v > 0)
expect(marks('chart-stages') == segs, f"stages: {marks('chart-stages')}, want {segs}")
gold = man['gold/avg_stats']
expect(gold['stage']['results_without_bio'] > 0 and gold['stage']['joined_rows'] > 0, 'gold stage counts')
steps = [k for k, v in gold['timings_s'].items() if v > 0]
expect(marks('chart-steps') == len(steps), f"steps: {marks('chart-steps')}, want {len(steps)}")
expect(charts['chart-steps']['bar_labels'][:1] == ['bronze.read.athlete_bio'], 'step labels')
expect(marks('chart-memory') == 2 == len(gold['peak_rss_bytes']), 'a memory bar per rank')
expect(all(v > 1e6 for v in gold['peak_rss_bytes']), 'peak RSS recorded')
# The screenshot is a page, not a blank: many colours, a good share of non-white pixels.
for name in ('wide', 'narrow'):
    im = Image.open(f'{work}/{name}.png').convert('RGB')
    expect(im.size[1] > 2000, f'{name}.png is {im.size}')
    px = im.resize((im.size[0] // 4, im.size[1] // 4)).getdata()
    colours = len(set(px))
    inked = sum(1 for p in px if p != (255, 255, 255)) / len(px)
    expect(colours > 50 and inked > 0.03, f'{name}.png looks blank: {colours} colours, {inked:.3f} inked')
# Every SVG is well-formed XML with the SVG namespace.
html = open(f'{work}/report.html', encoding='utf-8').read()
svgs = re.findall(r'<svg.*?</svg>', html, re.S)
expect(len(svgs) == 7, f'{len(svgs)} svg elements')
for s in svgs:
    try:
        d = xml.dom.minidom.parseString(s.encode())
        expect(d.documentElement.getAttribute('xmlns') == 'http://www.w3.org/2000/svg', 'xmlns')
    except Exception as e:
        errors.append(f'ill-formed SVG: {e}')
expect(not re.search(r'(src|href)\s*=\s*["\']?(https?:)?//', html), 'an external reference')
if errors:
    print('\n'.join(errors), file=sys.stderr)
    sys.exit(1)
EOF

# The checker catches what it must: a page that fetches something and logs an error.
cat >"$WORK/bad.html" <<'EOF'
<!DOCTYPE html><html><body><img src="http://127.0.0.1:9/x.png"><script>console.error("boom")</script></body></html>
EOF
check "$WORK/bad.html" "$WORK/bad.png" 400 >"$WORK/bad.json" || fail "chromium (bad page)"
/usr/bin/python3 -c '
import json, sys
p = json.load(open(sys.argv[1]))
assert any("127.0.0.1:9" in r for r in p["requests"]), p
assert any("boom" in m for m in p["console"]), p
' "$WORK/bad.json" || fail "the checker missed a request or a console error"

# No committed table: a clear error, exit 1. A lake without gold: the page says so.
expect_status 1 "$ATHLETE_BIN" report --lake "$WORK/empty" --out "$WORK/x.html"
expect_grep "no committed table" "$WORK/last.err"
mpi 1 landing-to-bronze --source "$ATHLETE_SRC/data" --lake "$WORK/bronze-only" --quiet || fail "l2b"
"$ATHLETE_BIN" report --lake "$WORK/bronze-only" --out "$WORK/b.html" --quiet || fail "report (bronze only)"
expect_grep "gold/avg_stats is not committed" "$WORK/b.html"
pass
