// HDF5 dimension scales and netCDF coordinates on a capture store (or a master), from the schema table's
// scale and coordinate entries (schema_table.h Role): every dataset of a group gets its group's scale
// attached along each dimension of that name, and each data dataset a "coordinates" attribute naming the
// group's coordinates along its first dimension, so xarray (h5netcdf) opens a group with named dimensions
// and coordinates (docs/notebooks.md). Written before SWMR writing starts; rows of growing scales are
// appended with the samples (writer.cpp).
#pragma once
#include <hdf5.h>

#include <string>
#include <vector>

#include "core/store/layout.h"

namespace headscope::store {

// The fixed-width UTF-8 string type of a text entry (NUL-padded), owned by the library for the process.
hid_t text_type(int bytes);
// `texts` packed for a text entry of `width` bytes each, every one cut at a UTF-8 character boundary.
std::vector<char> pack_text(const std::vector<std::string>& texts, int width);

// Creates the table's fixed dimension scales present in the layout (values 0..n-1) in `file`.
void write_fixed_scales(hid_t file, const StoreLayout& layout, const std::string& context);
// Marks the scales, attaches them and writes the coordinates attributes (see the top of this file).
void attach_dimension_scales(hid_t file, const StoreLayout& layout, const std::string& context);

// Result files (sweep, gain-scan, ib) and /analysis: their small fixed arrays carry dimension labels only;
// this gives every labelled dimension of every dataset under `group` a dimension scale in the dataset's
// group: the group's 1-D dataset of that name, or numeric one named like the label plus "s" (the real
// coordinates: "scales" for "scale", "betas" for "beta"), or else a new int32 dataset named like the label
// holding 0..n-1. An unlabelled dimension is labelled after its dataset (a 1-D one is then its own
// coordinate). A label with two lengths in one group keeps its label only (netCDF: one length per group).
void attach_label_scales(hid_t file, const std::string& group, const std::string& context);

}  // namespace headscope::store
