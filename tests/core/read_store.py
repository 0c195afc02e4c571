# Reads a HeadScope store with plain h5py (no HeadScope code), as a researcher would; used by
# tests/core/test_store.cpp. Prints facts the test checks.
import sys

import h5py

with h5py.File(sys.argv[1], "r", swmr=True) as f:
    assert f.attrs["format"] in (b"headscope", "headscope"), f.attrs["format"]
    entropy = f["metrics/entropy"]
    print("dims " + ",".join(d.label for d in entropy.dims))
    units = entropy.attrs["units"]
    print("entropy units " + (units.decode() if isinstance(units, bytes) else units))
    print("dtype " + str(entropy.dtype))
    starts = f["samples/token_start"][:]
    print("samples %d" % len(starts))
    text = f["samples/text"][:].tobytes()
    first = f["samples/id_start"][0], f["samples/id_length"][0]
    print("first id " + text[first[0]:first[0] + first[1]].decode())
    # One head's trace of sample 0: tokens of sample 0, layer 1, head 2.
    t0, n0 = starts[0], f["samples/token_count"][0]
    print("entropy[0,1,2] %.4f" % float(entropy[t0, 1, 2]))
    print("trace length %d" % len(entropy[t0:t0 + n0, 1, 2]))
