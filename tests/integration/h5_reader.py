import h5py


def read_table(path):
    """Reads an athlete HDF5 table into {column: list of values}, None for nulls."""
    with h5py.File(path, "r") as f:
        out = {}
        for name in sorted((k for k in f if k != "_partitions"), key=lambda k: f[k].attrs["index"]):
            col, kind = f[name], f[name].attrs["type"]
            if kind == "string":
                off, raw = col["offsets"][()], col["bytes"][()].tobytes()
                vals = [raw[a:b].decode() for a, b in zip(off[:-1], off[1:])]
            else:
                vals = [bool(v) if kind == "bool" else v for v in col["values"][()].tolist()]
            valid = col["valid"][()] if "valid" in col else [1] * len(vals)
            out[name] = [v if ok else None for v, ok in zip(vals, valid)]
        return out
