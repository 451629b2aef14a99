"""kafka_check.py KCAT.json CSV PARTITIONS: checks the messages one `athlete produce` run sent.

KCAT.json is `kcat -C -J -e` output (one JSON envelope a line). For every message:
- the headers are exactly athlete.source = the CSV's file name and athlete.offset = a byte
  offset, and no two messages share an offset (nothing sent twice);
- the payload is a JSON object whose keys are the CSV's header names in order, and whose
  values are the fields of the CSV record that starts at that offset, as Python's csv module
  reads it there (an empty field as null);
- the key is the payload's athlete_id (no key when it is null), and a keyed message sits in the
  partition Kafka's Java client would choose: murmur2(key) & 0x7fffffff mod PARTITIONS.
Prints a one-line summary; exits 1 with the first problems found."""
import csv
import io
import json
import sys


def murmur2(data: bytes) -> int:
    """Kafka's murmur2 (org.apache.kafka.common.utils.Utils.murmur2), as a signed 32-bit int."""
    m, r, seed = 0x5BD1E995, 24, 0x9747B28C
    length = len(data)
    h = (seed ^ length) & 0xFFFFFFFF
    for i in range(0, length - length % 4, 4):
        k = int.from_bytes(data[i : i + 4], "little")
        k = (k * m) & 0xFFFFFFFF
        k ^= k >> r
        k = (k * m) & 0xFFFFFFFF
        h = (h * m) & 0xFFFFFFFF
        h ^= k
    tail = length % 4
    base = length - tail
    if tail == 3:
        h ^= data[base + 2] << 16
    if tail >= 2:
        h ^= data[base + 1] << 8
    if tail >= 1:
        h ^= data[base]
        h = (h * m) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * m) & 0xFFFFFFFF
    h ^= h >> 15
    return h


def record_at(raw: bytes, offset: int):
    """The CSV record starting at byte `offset`, parsed by Python's csv module."""
    # Invalid UTF-8 further on (a rejected record) must not stop the decoding of this one.
    text = io.TextIOWrapper(io.BytesIO(raw[offset : offset + (1 << 20)]), encoding="utf-8",
                            errors="surrogateescape", newline="")
    return next(csv.reader(text))


def main():
    kcat_path, csv_path, partitions = sys.argv[1], sys.argv[2], int(sys.argv[3])
    raw = open(csv_path, "rb").read()
    source = csv_path.rsplit("/", 1)[-1]
    header = next(csv.reader(io.StringIO(raw[: raw.index(b"\n") + 1].decode("utf-8-sig"), newline="")))
    problems, seen, keyed = [], set(), 0
    lines = open(kcat_path, encoding="utf-8").read().splitlines()
    for n, line in enumerate(lines, 1):
        env = json.loads(line)
        where = f"message {n} (partition {env['partition']}, offset {env['offset']})"
        h = env.get("headers") or []
        if len(h) != 4 or h[0] != "athlete.source" or h[2] != "athlete.offset":
            problems.append(f"{where}: headers {h}")
            continue
        if h[1] != source:
            problems.append(f"{where}: athlete.source {h[1]!r}, expected {source!r}")
        off = int(h[3])
        if off in seen:
            problems.append(f"{where}: athlete.offset {off} sent twice")
        seen.add(off)
        payload = json.loads(env["payload"])
        if list(payload) != header:
            problems.append(f"{where}: keys {list(payload)} != header {header}")
            continue
        fields = record_at(raw, off)
        want = [v if v != "" else None for v in fields]
        if list(payload.values()) != want:
            problems.append(f"{where}: payload {payload} != the record at byte {off}: {fields}")
        aid = payload.get("athlete_id")
        if env.get("key") != aid:
            problems.append(f"{where}: key {env.get('key')!r} != athlete_id {aid!r}")
        if aid is not None:
            keyed += 1
            want_p = (murmur2(aid.encode()) & 0x7FFFFFFF) % partitions
            if env["partition"] != want_p:
                problems.append(f"{where}: key {aid!r} in partition {env['partition']}, murmur2 says {want_p}")
        if len(problems) > 10:
            break
    if problems:
        print("\n".join(problems[:10]), file=sys.stderr)
        sys.exit(1)
    print(f"ok: {len(lines)} messages ({keyed} keyed) are the records at their offsets, once each")


main()
