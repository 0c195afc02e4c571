#!/usr/bin/python3
"""Per-metric differences between two capture stores of the same prompts (for example a bfloat16 and a
float32 capture of one model): for each /metrics/<name>, the max and mean absolute difference over the
values both stores define, how many are defined in one store only, and the mean absolute value for scale.
Reads with h5py only (Debian's /usr/bin/python3), so it checks the files as any HDF5 client sees them.

usage: compare_stores.py A.h5 B.h5"""
import sys

import h5py
import numpy as np


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    with h5py.File(sys.argv[1], "r") as a, h5py.File(sys.argv[2], "r") as b:
        if a["tokens/ids"].shape != b["tokens/ids"].shape or not np.array_equal(a["tokens/ids"][:], b["tokens/ids"][:]):
            sys.exit("the stores hold different tokens: capture the same prompts")
        print(f"{'metric':<22} {'max |diff|':>12} {'mean |diff|':>12} {'mean |value|':>13} {'NaN in one':>10}")
        for name in a["metrics"]:
            if name not in b["metrics"]:
                continue
            x = a["metrics"][name][:].astype(np.float64)
            y = b["metrics"][name][:].astype(np.float64)
            both = np.isfinite(x) & np.isfinite(y)
            one = np.isfinite(x) ^ np.isfinite(y)
            diff = np.abs(x[both] - y[both])
            if not diff.size:
                print(f"{name:<22} {'(no value defined in both)':>39} {int(one.sum()):>10}")
                continue
            print(f"{name:<22} {diff.max():>12.3g} {diff.mean():>12.3g} {np.abs(y[both]).mean():>13.3g} {int(one.sum()):>10}")


if __name__ == "__main__":
    main()
