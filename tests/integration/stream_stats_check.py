"""The output topic of stream-stats against batch gold (run with /usr/bin/python3).

  stream_stats_check.py KCAT.json GOLD.h5 [--monotonic] [--min-updates N]

KCAT.json: the output topic as `kcat -C -J -e` prints it (read_committed). The last value per
key (a compacted topic's view) must equal the gold table's rows: the same set of keys, each
value's sport, medal, sex and country_noc equal to its key's, avg_height and avg_weight the
same doubles bit for bit (the JSON numbers are parsed exactly; null for null), n_rows equal,
timestamp an ISO 8601 UTC time. Every message must be a valid JSON object of gold's columns
in gold's order; with --monotonic (a run without crashes: librdkafka's mock cluster shows the
messages of a transaction that a crash left open, whose prefix can be longer than the one a
restart commits), a later value of a key never has fewer n_rows than an earlier one.
Prints a summary; exit 1 with the first differences otherwise.
"""
import json
import re
import struct
import sys

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from h5_reader import read_table  # noqa: E402

COLS = ["sport", "medal", "sex", "country_noc", "avg_height", "avg_weight", "n_rows", "timestamp"]
TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


def bits(v):
    return None if v is None else struct.pack("<d", v)


def main():
    args = sys.argv[1:]
    min_updates = 0
    monotonic = "--monotonic" in args
    if monotonic:
        args.remove("--monotonic")
    if "--min-updates" in args:
        i = args.index("--min-updates")
        min_updates = int(args[i + 1])
        del args[i : i + 2]
    kcat, gold_path = args
    problems = []
    last, messages = {}, 0
    with open(kcat, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            m = json.loads(line)
            messages += 1
            key = tuple(json.loads(m["key"]))
            val = json.loads(m["payload"], object_pairs_hook=lambda kv: kv)
            names = [k for k, _ in val]
            val = dict(val)
            if names != COLS:
                problems.append(f"offset {m['offset']}: columns {names}")
                continue
            if tuple(val[c] for c in COLS[:4]) != key:
                problems.append(f"offset {m['offset']}: key {key} but value {val}")
            if not TS.match(val["timestamp"]):
                problems.append(f"offset {m['offset']}: timestamp {val['timestamp']!r}")
            if monotonic and key in last and last[key]["n_rows"] > val["n_rows"]:
                problems.append(f"key {key}: n_rows went from {last[key]['n_rows']} to {val['n_rows']}")
            last[key] = val
    g = read_table(gold_path)
    gold = {}
    for i in range(len(g["sport"])):
        gold[tuple(g[c][i] for c in COLS[:4])] = {c: g[c][i] for c in COLS[4:7]}
    for key in sorted(set(gold) - set(last), key=repr)[:10]:
        problems.append(f"gold group {key} never published")
    for key in sorted(set(last) - set(gold), key=repr)[:10]:
        problems.append(f"published group {key} is not in gold")
    for key in sorted(set(gold) & set(last), key=repr):
        want, got = gold[key], last[key]
        for c in ("avg_height", "avg_weight"):
            if bits(want[c]) != bits(got[c]):
                problems.append(f"{key}: {c} {got[c]!r} != gold {want[c]!r}")
        if want["n_rows"] != got["n_rows"]:
            problems.append(f"{key}: n_rows {got['n_rows']} != gold {want['n_rows']}")
    if messages < min_updates:
        problems.append(f"only {messages} messages, expected at least {min_updates}")
    if problems:
        print("\n".join(problems[:20]))
        print(f"{len(problems)} problems; {messages} messages, {len(last)} keys, {len(gold)} gold rows")
        sys.exit(1)
    print(f"ok: {messages} messages, {len(last)} keys, last values equal gold's {len(gold)} rows")


main()
