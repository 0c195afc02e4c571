# Opens every group of a HeadScope file with xarray (h5netcdf engine), as a notebook would; used by
# tests/core/test_store_notebooks.cpp. Prints one line per group with its named dimensions; exits non-zero
# when a group does not open with named dimensions (HDF5 dimension scales on every array).
import sys

import h5py
import xarray as xr

groups = ["/"]
with h5py.File(sys.argv[1], "r", swmr=True) as f:
    f.visit(lambda name: groups.append("/" + name) if isinstance(f[name], h5py.Group) else None)
for group in groups:
    with xr.open_dataset(sys.argv[1], engine="h5netcdf", group=group) as ds:
        print(group, " ".join("%s=%d" % (name, size) for name, size in ds.sizes.items()))
