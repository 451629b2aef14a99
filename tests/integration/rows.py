"""Row-set comparisons for the integration tests (run with /usr/bin/python3).

  rows.py csv A.csv B.csv          two CSV exports (DuckDB COPY ... NULLSTR '\\N') hold the same
                                   multiset of rows (column order by header name)
  rows.py h5 FILE.h5 A.csv         the HDF5 table holds the same rows as the CSV export
  rows.py count A.csv              prints the number of rows
Exit status 0 when equal; otherwise prints the first differences and exits 1.
"""
import collections
import csv
import sys

sys.path.insert(0, __file__.rsplit("/", 1)[0])
csv.field_size_limit(1 << 30)


def read_csv(path):
    with open(path, newline="", encoding="utf-8", errors="surrogateescape") as f:
        r = csv.reader(f)
        header = next(r)
        rows = [tuple(None if v == "\\N" else v for v in row) for row in r]
    return header, rows


def canon(header, rows):
    order = sorted(range(len(header)), key=lambda i: header[i])
    return [header[i] for i in order], collections.Counter(tuple(row[i] for i in order) for row in rows)


def fmt(v):
    if v is None:
        return None
    if isinstance(v, bytes):
        return v.decode("utf-8", "surrogateescape")
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(v)
    return str(v)


def read_h5(path):
    from h5_reader import read_table

    cols = read_table(path)
    header = list(cols)
    n = len(cols[header[0]]) if header else 0
    return header, [tuple(fmt(cols[h][i]) for h in header) for i in range(n)]


def compare(a, b, what):
    ha, ca = canon(*a)
    hb, cb = canon(*b)
    if ha != hb:
        print(f"{what}: columns differ: {ha} vs {hb}")
        return 1
    if ca == cb:
        return 0
    only_a, only_b = ca - cb, cb - ca
    print(f"{what}: {sum(only_a.values())} rows only in the first, {sum(only_b.values())} only in the second")
    for row in list(only_a)[:5]:
        print("  first only: ", row)
    for row in list(only_b)[:5]:
        print("  second only:", row)
    return 1


def main():
    mode = sys.argv[1]
    if mode == "csv":
        sys.exit(compare(read_csv(sys.argv[2]), read_csv(sys.argv[3]), "csv vs csv"))
    if mode == "h5":
        sys.exit(compare(read_h5(sys.argv[2]), read_csv(sys.argv[3]), "h5 vs csv"))
    if mode == "count":
        print(len(read_csv(sys.argv[2])[1]))
        return
    sys.exit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
