"""Independent check of an athlete HDF5 table written by tests/tools/h5_roundtrip.

usage: h5_check.py DIR NAME
Reads DIR/NAME.h5 with h5py only (through h5_reader.read_table, the README's snippet), prints
its rows in the escaped text form of DIR/NAME.tsv and compares the two, then checks the layout
of SPEC §5: attributes, /_partitions against DIR/NAME.parts, dataset types and shapes,
contiguous storage, global string offsets.
"""
import os
import sys

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from h5_reader import read_table  # noqa: E402

VALUE_DTYPES = {"int64": np.int64, "double": np.float64, "bool": np.uint8, "timestamp": np.int64}


def fail(msg):
    print(f"FAIL: {msg}", file=sys.stderr)
    sys.exit(1)


def escape(value):
    """The text form of h5_roundtrip's dump_field."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return "%.17g" % value
    out = []
    for b in value.encode("utf-8"):
        if b == 0x5C:
            out.append("\\\\")
        elif 0x20 <= b < 0x7F:
            out.append(chr(b))
        else:
            out.append("\\x%02x" % b)
    return "".join(out)


def as_text(table):
    names = list(table)
    lines = ["\t".join(escape(n) for n in names)]
    nrows = len(table[names[0]]) if names else 0
    for i in range(nrows):
        lines.append("\t".join(escape(table[n][i]) for n in names))
    return "\n".join(lines) + "\n"


def check_rows(path, tsv):
    got = as_text(read_table(path))
    with open(tsv, encoding="ascii") as f:
        want = f.read()
    if got != want:
        for i, (a, b) in enumerate(zip(got.splitlines(), want.splitlines())):
            if a != b:
                fail(f"{path}: line {i + 1} differs:\n  h5py: {a}\n  want: {b}")
        fail(f"{path}: {len(got.splitlines())} lines from h5py, {len(want.splitlines())} expected")
    return len(want.splitlines()) - 1


def check_dataset(ds, dtype, length):
    if ds.dtype != np.dtype(dtype).newbyteorder("<") or ds.shape != (length,):
        fail(f"{ds.name}: {ds.dtype} {ds.shape}, want {np.dtype(dtype)} ({length},)")
    if ds.chunks is not None or ds.compression is not None:
        fail(f"{ds.name}: chunked or filtered, want contiguous")


def check_column(group, rows):
    kind, nullable = group.attrs["type"], int(group.attrs["nullable"])
    want = {"valid"} if nullable else set()
    if kind == "string":
        want |= {"offsets", "bytes"}
        # int32 offsets where the column's bytes fit below 2^31 (SPEC §5), else int64; the
        # dtype has to follow from the bytes dataset's length.
        nbytes = group["bytes"].shape[0]
        check_dataset(group["offsets"], np.int32 if nbytes < 2**31 else np.int64, rows + 1)
        off = group["offsets"][()].astype(np.int64)
        check_dataset(group["bytes"], np.uint8, int(off[-1]))
        if off[0] != 0 or np.any(np.diff(off) < 0):
            fail(f"{group.name}/offsets: not global offsets from 0")
    else:
        want.add("values")
        check_dataset(group["values"], VALUE_DTYPES[kind], rows)
    if nullable:
        check_dataset(group["valid"], np.uint8, rows)
    if set(group) != want:
        fail(f"{group.name}: datasets {sorted(group)}, want {sorted(want)}")


def check_layout(path, parts_file, name, rows):
    with open(parts_file) as f:
        parts = [int(x) for x in f.read().split()]
    with h5py.File(path, "r") as f:
        if f.attrs["format"] != "athlete-table-1" or int(f.attrs["rows"]) != rows:
            fail(f"{path}: root attributes {dict(f.attrs)}")
        if f.attrs["table"] != name or f.attrs["layer"] != "test":
            fail(f"{path}: caller attributes {dict(f.attrs)}")
        check_dataset(f["_partitions"], np.int64, len(parts))
        if f["_partitions"][()].tolist() != parts or sum(parts) != rows:
            fail(f"{path}: _partitions {f['_partitions'][()]}, want {parts}")
        cols = [k for k in f if k != "_partitions"]
        if sorted(int(f[k].attrs["index"]) for k in cols) != list(range(len(cols))):
            fail(f"{path}: column indexes are not 0..{len(cols) - 1}")
        for k in cols:
            check_column(f[k], rows)


def main():
    folder, name = sys.argv[1], sys.argv[2]
    path = os.path.join(folder, name + ".h5")
    rows = check_rows(path, os.path.join(folder, name + ".tsv"))
    check_layout(path, os.path.join(folder, name + ".parts"), name, rows)
    print(f"{path}: {rows} rows match, layout ok")


if __name__ == "__main__":
    main()
