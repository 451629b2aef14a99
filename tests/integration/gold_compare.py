"""Compares two gold tables printed as TSV (tests/duck.mjs output, NULL as \\N), in order:
columns 0-3 are the group keys, 4-5 the averages, 6 n_rows, 7.. anything else (compared exactly).
Keys, n_rows and nulls must be equal; averages equal to a relative 1e-12 (DuckDB sums doubles in
floating point, athlete exactly). Usage: gold_compare.py OURS.tsv REFERENCE.tsv [MIN_ROWS]"""
import sys


def load(path):
    with open(path, encoding="utf-8") as f:
        return [line.rstrip("\n").split("\t") for line in f]


def main():
    ours, ref = load(sys.argv[1]), load(sys.argv[2])
    min_rows = int(sys.argv[3]) if len(sys.argv) > 3 else 100
    if len(ours) != len(ref) or len(ours) < min_rows:
        sys.exit(f"gold rows: athlete {len(ours)}, reference {len(ref)}")
    for i, (a, b) in enumerate(zip(ours, ref)):
        if len(a) != len(b) or a[:4] != b[:4] or int(float(a[6])) != int(float(b[6])) or a[7:] != b[7:]:
            sys.exit(f"row {i}: athlete {a} reference {b}")
        for k in (4, 5):
            if (a[k] == "\\N") != (b[k] == "\\N"):
                sys.exit(f"row {i} col {k}: null mismatch {a} {b}")
            if a[k] != "\\N" and abs(float(a[k]) - float(b[k])) > 1e-12 * abs(float(b[k])):
                sys.exit(f"row {i} col {k}: {a[k]} vs {b[k]}")
    print(f"gold: {len(ours)} rows equal to the reference")


if __name__ == "__main__":
    main()
