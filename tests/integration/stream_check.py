#!/usr/bin/env python3
"""Checks a stream table against what kcat read from its topic (SPEC §10), independently of
athlete's code: every commit log entry is valid JSON with consecutive sequence numbers; the
batch files in the folder are exactly the files the log lists (no orphan, none missing), each
named <topic>+<partition>+<first>+<last>.parquet after its entry's range; the ranges of a
partition never overlap; and every offset kcat read lies in exactly one range.

usage: stream_check.py TABLE_DIR KCAT_JSON_LINES TOPIC"""
import json
import os
import sys


def main():
    table, kcat, topic = sys.argv[1:4]
    log_dir = os.path.join(table, "_log")
    names = sorted(n for n in os.listdir(log_dir) if not n.startswith("."))
    listed, rejects, ranges = set(), set(), {}
    for i, name in enumerate(names, 1):
        if name != "%020d.json" % i:
            sys.exit("log: expected entry %d, found %s" % (i, name))
        with open(os.path.join(log_dir, name)) as f:
            e = json.load(f)
        if e["seq"] != i:
            sys.exit("%s: seq %s" % (name, e["seq"]))
        for r in e["offsets"]:
            if r["topic"] != topic:
                continue
            ranges.setdefault(r["partition"], []).append((r["first"], r["last"], name))
        for f in e["files"]:
            if f["file"] in listed:
                sys.exit("%s lists %s a second time" % (name, f["file"]))
            listed.add(f["file"])
            t, p, a, b = f["file"][: -len(".parquet")].split("+")
            if (int(a), int(b)) not in [(x, y) for x, y, _ in ranges.get(int(p), [])]:
                sys.exit("%s: %s does not match a range of its entry" % (name, f["file"]))
        for f in e["rejects_files"]:
            rejects.add(f["file"])
    present = {n for n in os.listdir(table) if n.endswith(".parquet")}
    if present != listed:
        sys.exit("files not in the log: %s; listed but missing: %s"
                 % (sorted(present - listed), sorted(listed - present)))
    rdir = os.path.join(table, "_rejects")
    present_r = {"_rejects/" + n for n in os.listdir(rdir) if n.endswith(".parquet")}
    if present_r != rejects:
        sys.exit("rejects files not in the log: %s; listed but missing: %s"
                 % (sorted(present_r - rejects), sorted(rejects - present_r)))
    for p, rs in ranges.items():
        rs.sort()
        for (a1, b1, n1), (a2, b2, n2) in zip(rs, rs[1:]):
            if a2 <= b1:
                sys.exit("partition %d: %s [%d, %d] overlaps %s [%d, %d]" % (p, n1, a1, b1, n2, a2, b2))
    seen = 0
    with open(kcat, encoding="utf-8", errors="surrogateescape") as f:
        for line in f:
            m = json.loads(line)
            rs = ranges.get(m["partition"], [])
            hits = [r for r in rs if r[0] <= m["offset"] <= r[1]]
            if len(hits) != 1:
                sys.exit("partition %d offset %d is in %d ranges" % (m["partition"], m["offset"], len(hits)))
            seen += 1
    print("stream_check: %d entries, %d files, %d messages each in one range" % (len(names), len(listed), seen))


main()
