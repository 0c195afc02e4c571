// Writer and reader of a store's /analysis group (see analysis_group.h). Sections: 1. writing  2. reading.
#include "core/store/analysis_group.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "core/store/dimension_scales.h"
#include "core/store/file_header.h"
#include "core/store/file_replace.h"
#include "core/store/h5.h"
#include "core/store/read_access.h"
#include "core/store/result_io.h"
#include "core/store/schema.h"

namespace headscope::store {

namespace io = result_io;
using h5::Id;
namespace fs = std::filesystem;

namespace {
using schema::kAnalysis;
using schema::kAnalysisBoundaries;
using schema::kAnalysisFlow;
using schema::kAnalysisHeartbeats;
using schema::kAnalysisPhase0;
const char* const kFlowScores[] = {"flow", "hub_score", "skip", "composite"};

// The CODI seed's arrays of /analysis/flow, declared once (the writer, the reader and the shape check loop
// over them); files written before them lack them all.
struct FlowDoubles {
  const char* name;
  std::vector<double> FlowGroup::*member;
  const char* dimension;  // after "layer", "head" ("" when none) or, alone, the criterion axis
  const char* units;
  const char* description;
};
const FlowDoubles kSeedDoubles[] = {
    {"sequential", &FlowGroup::sequential, "", "1", "sum of A[i, i-1] over all of the block's lower triangle and diagonal"},
    {"row_max", &FlowGroup::row_max, "attending", "probability", "largest entry of each row of the mean matrix"},
    {"criterion_value", &FlowGroup::criterion_value, nullptr, "", "the measured quantity of each phase criterion"},
    {"criterion_threshold", &FlowGroup::criterion_threshold, nullptr, "", "its threshold"},
};
struct FlowInts {
  const char* name;
  std::vector<std::int32_t> FlowGroup::*member;
  bool per_head;  // [layer, head]; else [criterion]
  const char* description;
};
const FlowInts kSeedInts[] = {
    {"functional_type", &FlowGroup::functional_type, true, "largest min-max normalised score: see the functional_types attribute"},
    {"criterion_phase", &FlowGroup::criterion_phase, false, "the seed's phase of the criterion (1 or 2)"},
    {"criterion_passed", &FlowGroup::criterion_passed, false, "1: passed, 0: failed"},
};
}  // namespace

const std::vector<BoundaryStatistic>& boundary_statistics() {
  static const std::vector<BoundaryStatistic> table = {
      {"observed", &BoundariesGroup::observed, &BoundariesGroup::detector_observed,
       "precision, recall and F1 of the detected boundaries against the recorded step starts, pooled over samples"},
      {"chance_mean", &BoundariesGroup::chance_mean, &BoundariesGroup::detector_chance_mean,
       "the same, mean over draws of as many boundaries placed uniformly at random among the eligible positions"},
      {"chance_at_least", &BoundariesGroup::chance_at_least, &BoundariesGroup::detector_chance_at_least,
       "fraction of the chance draws whose score is >= the observed one"},
  };
  return table;
}

// 1. Writing -----------------------------------------------------------------------------------------------
// The groups into the open copy `file` (named `path` in errors).
static void write_groups(hid_t file, const std::string& path, const AnalysisGroup& a) {
  if (!h5::link_exists(file, kAnalysis)) h5::create_group(file, kAnalysis, path);
  for (const char* group : {kAnalysisHeartbeats, kAnalysisFlow, kAnalysisBoundaries, kAnalysisPhase0})
    if (h5::link_exists(file, group)) H5Ldelete(file, group, H5P_DEFAULT);
  const hsize_t L = static_cast<hsize_t>(a.layer_count), H = static_cast<hsize_t>(a.head_count),
                S = static_cast<hsize_t>(a.sample_count);
  if (a.heartbeats.present) {
    const HeartbeatsGroup& h = a.heartbeats;
    Id group = h5::create_group(file, kAnalysisHeartbeats, path);
    h5::write_attribute(group, "definition", h.definition);
    h5::write_attribute(group, "threshold", h.threshold);
    h5::write_attribute(group, "min_run", h.min_run);
    h5::write_attribute(group, "telegraph_heads", h.telegraph_heads);
    io::write_int32s(group, "counts", h.counts, {{S, L, H}, {"sample", "layer", "head"}, "heartbeats",
                     "heartbeats on the IAF trace over generated steps; -1: none generated"}, path);
    std::vector<std::int32_t> ranking;
    for (const auto& head : h.telegraph_ranking) { ranking.push_back(head.layer); ranking.push_back(head.head); }
    io::write_int32s(group, "telegraph_ranking", ranking, {{h.telegraph_ranking.size(), 2}, {"rank", "layer_head"}, "",
                     "heads, most telegraph-like IAF first"}, path);
    io::write_doubles(group, "telegraph_score", h.telegraph_score, {{}, {"rank"}, "1",
                      "mean fraction of generated steps at least 0.3 from the threshold"}, path);
    io::write_int32s(group, "calibration_level", h.calibration_level, {{}, {"row"}, "", ""}, path);
    io::write_doubles(group, "calibration_mean", h.calibration_mean, {{}, {"row"}, "heartbeats",
                      "mean heartbeats per sample (over the top telegraph heads) at this level"}, path);
    io::write_doubles(group, "calibration_std", h.calibration_std, {{}, {"row"}, "heartbeats", ""}, path);
    io::write_int32s(group, "calibration_samples", h.calibration_samples, {{}, {"row"}, "", ""}, path);
  }
  if (a.flow.present) {
    const FlowGroup& f = a.flow;
    Id group = h5::create_group(file, kAnalysisFlow, path);
    const hsize_t K = static_cast<hsize_t>(f.k);
    const std::vector<std::string> matrix_dims{"layer", "head", "attending", "attended"}, head_dims{"layer", "head"};
    h5::write_array(group, "mean", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, {L, H, K, K}, f.mean.data(), path, matrix_dims,
                    "probability", "flow matrices averaged over samples");
    h5::write_array(group, "std", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, {L, H, K, K}, f.std.data(), path, matrix_dims,
                    "probability", "population std over samples");
    const std::vector<double>* scores[] = {&f.flow, &f.hub_score, &f.skip, &f.composite};
    for (int s = 0; s < 4; ++s) io::write_doubles(group, kFlowScores[s], *scores[s], {{L, H}, head_dims, "", ""}, path);
    io::write_int32s(group, "hub_position", f.hub_position, {{L, H}, head_dims, "", ""}, path);
    h5::write_attribute(group, "normalization", f.normalization);
    if (!f.functional_type.empty()) {
      const hsize_t C = f.criteria.size();
      for (const auto& d : kSeedDoubles) {
        const bool per_head = d.dimension != nullptr;
        const bool with_row = per_head && *d.dimension;
        std::vector<hsize_t> dims = per_head ? std::vector<hsize_t>{L, H} : std::vector<hsize_t>{C};
        std::vector<std::string> labels = per_head ? head_dims : std::vector<std::string>{"criterion"};
        if (with_row) dims.push_back(K), labels.push_back(d.dimension);
        io::write_doubles(group, d.name, f.*d.member, {dims, labels, d.units, d.description}, path);
      }
      for (const auto& i : kSeedInts)
        io::write_int32s(group, i.name, f.*i.member,
                         i.per_head ? io::Array{{L, H}, head_dims, "", i.description} : io::Array{{C}, {"criterion"}, "", i.description},
                         path);
      io::write_strings(group, "criteria", f.criteria, "the phase criteria, in words (docs/workbench.md, \"Flow analysis\")", path);
      h5::write_attribute(group, "functional_types", f.functional_types);
      h5::write_attribute(group, "top_bottom", f.top_bottom);
    }
  }
  if (a.boundaries.present) {
    const BoundariesGroup& b = a.boundaries;
    Id group = h5::create_group(file, kAnalysisBoundaries, path);
    h5::write_attribute(group, "tolerance_tokens", b.tolerance_tokens);
    h5::write_attribute(group, "peak_rule", b.peak_rule);
    io::write_doubles(group, "f1", b.f1, {{L, H}, {"layer", "head"}, "1", "mean F1 of windowed-JSD peaks against recorded step starts"},
                      path);
    if (b.chance_draws > 0) {
      h5::write_attribute(group, "chance_draws", b.chance_draws);
      h5::write_attribute(group, "chance_seed", b.chance_seed);
      h5::write_attribute(group, "scores", std::string("precision, recall, f1"));
      const hsize_t D = b.detectors.size();
      io::write_strings(group, "detectors", b.detectors, "the whole-run detectors scored beside the heads", path);
      for (const auto& statistic : boundary_statistics()) {
        io::write_doubles(group, statistic.name, b.*statistic.per_head, {{L, H, 3}, {"layer", "head", "score"}, "1", statistic.description},
                          path);
        io::write_doubles(group, std::string("detector_") + statistic.name, b.*statistic.per_detector,
                          {{D, 3}, {"detector", "score"}, "1", statistic.description}, path);
      }
    }
  }
  if (a.phase0.present) {
    const Phase0Group& p = a.phase0;
    Id group = h5::create_group(file, kAnalysisPhase0, path);
    io::write_doubles(group, "pearson", p.pearson, {{L, H}, {"layer", "head"}, "1",
                      "Pearson r of query norm and entropy over every token of every sample (pairs where both are finite)"}, path);
    io::write_doubles(group, "spearman", p.spearman, {{L, H}, {"layer", "head"}, "1",
                      "Spearman rank correlation of the same pairs (average ranks for ties)"}, path);
    io::write_int64s(group, "pairs", p.pairs, {{L, H}, {"layer", "head"}, "tokens", "pairs behind r and spearman"}, path);
    std::vector<std::int32_t> ranking;
    for (const auto& head : p.ranking) { ranking.push_back(head.layer); ranking.push_back(head.head); }
    io::write_int32s(group, "ranking", ranking, {{p.ranking.size(), 2}, {"rank", "layer_head"}, "",
                     "heads by Pearson r, most negative first (Spectra's phase 0 target choice)"}, path);
  }
}

// Never into the store itself: HDF5 cannot undo a half-written change (a full disk or a kill mid-write left
// stores no command could open). The store is copied to a temporary sibling, /analysis written there,
// flushed, closed and fsynced, and the copy renamed over the store; on any failure the copy is removed and
// the store is byte for byte what it was.
void check_analysis_writable(const std::string& path) {
  if (writer_lock_held(path))
    throw StoreError(path + ": a capture is still writing it; run analyze once it has finished (or pass --no-write)");
  if (::access(path.c_str(), W_OK) != 0)
    throw StoreError(path + ": the file is read-only (" + errno_text() +
                     "); analyze writes /analysis into it: make it writable, or pass --no-write to print only");
  const fs::path folder = fs::path(path).parent_path().empty() ? fs::path(".") : fs::path(path).parent_path();
  if (::access(folder.c_str(), W_OK) != 0)
    throw StoreError(path + ": its folder " + folder.string() + " is read-only (" + errno_text() +
                     "); analyze writes a new copy of the store beside it: pass --no-write to print only");
}

void write_analysis_group(const std::string& path, const AnalysisGroup& a) {
  h5::quiet_errors();
  check_analysis_writable(path);
  WriterLock lock(path);
  TempSibling copy(path);
  try {
    std::error_code ec;
    fs::copy_file(path, copy.path(), fs::copy_options::overwrite_existing, ec);
    if (ec) throw StoreError(copy.path() + ": cannot copy the store (" + ec.message() + ")");
    Id access(H5Pcreate(H5P_FILE_ACCESS));
    H5Pset_libver_bounds(access, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST);
    Id file(h5::check(H5Fopen(copy.path().c_str(), H5F_ACC_RDWR, access), copy.path(), "cannot open the copy for writing"));
    write_groups(file, copy.path(), a);
    attach_label_scales(file, schema::kAnalysis, copy.path());  // named dimensions for xarray
    h5::check_status(H5Fflush(file, H5F_SCOPE_GLOBAL), copy.path(), "cannot flush");
    h5::check_status(H5Fclose(file.get()), copy.path(), "cannot close");
    file = Id();  // closed above
    copy.commit();
  } catch (const StoreError& e) {
    throw StoreError(path + ": cannot write /analysis, the store is unchanged: " + e.what());
  }
}

// 2. Reading -----------------------------------------------------------------------------------------------
// Array lengths against the store's layers and heads, and the heads and positions they name inside them.
static void check_analysis_shapes(const AnalysisGroup& a, const std::string& path) {
  auto require = [&](bool ok, const std::string& what) {
    if (!ok) throw StoreError(path + ": " + std::string(kAnalysis) + ": " + what + " (damaged file?)");
  };
  const std::size_t heads = static_cast<std::size_t>(std::max(0, a.layer_count)) * static_cast<std::size_t>(std::max(0, a.head_count));
  auto inside = [&](const HeadRef& head) {
    return head.layer >= 0 && head.layer < a.layer_count && head.head >= 0 && head.head < a.head_count;
  };
  if (a.heartbeats.present) {
    const HeartbeatsGroup& h = a.heartbeats;
    require(heads > 0 && h.counts.size() % heads == 0, "heartbeats/counts is not [sample, layer, head]");
    require(h.telegraph_score.size() == h.telegraph_ranking.size(), "heartbeats/telegraph_score and telegraph_ranking differ in length");
    for (const HeadRef& head : h.telegraph_ranking) require(inside(head), "heartbeats/telegraph_ranking names " + head_name(head) + ", outside the model");
    const std::size_t rows = h.calibration_level.size();
    require(h.calibration_mean.size() == rows && h.calibration_std.size() == rows && h.calibration_samples.size() == rows,
            "heartbeats/calibration_* differ in length");
  }
  if (a.flow.present) {
    const FlowGroup& f = a.flow;
    const std::size_t kk = static_cast<std::size_t>(std::max(0, f.k)) * static_cast<std::size_t>(std::max(0, f.k));
    require(heads > 0 && f.mean.size() == heads * kk && f.std.size() == heads * kk, "flow/mean and flow/std are not [layer, head, K, K]");
    for (const auto* scores : {&f.flow, &f.hub_score, &f.skip, &f.composite})
      require(scores->size() == heads, "a flow score is not [layer, head]");
    require(f.hub_position.size() == heads, "flow/hub_position is not [layer, head]");
    for (std::int32_t position : f.hub_position) require(position >= -1 && position < f.k, "flow/hub_position outside the K positions");
    if (!f.functional_type.empty()) {
      const std::size_t rows = heads * static_cast<std::size_t>(std::max(0, f.k)), criteria = f.criteria.size();
      for (const auto& d : kSeedDoubles) {
        const std::size_t wanted = d.dimension == nullptr ? criteria : *d.dimension ? rows : heads;
        require((f.*d.member).size() == wanted, std::string("flow/") + d.name + " has the wrong length");
      }
      for (const auto& i : kSeedInts)
        require((f.*i.member).size() == (i.per_head ? heads : criteria), std::string("flow/") + i.name + " has the wrong length");
    }
  }
  if (a.boundaries.present) {
    const BoundariesGroup& b = a.boundaries;
    require(b.f1.size() == heads, "boundaries/f1 is not [layer, head]");
    for (const auto& statistic : boundary_statistics())
      if (b.chance_draws > 0) {
        require((b.*statistic.per_head).size() == heads * 3, std::string("boundaries/") + statistic.name + " is not [layer, head, 3]");
        require((b.*statistic.per_detector).size() == b.detectors.size() * 3,
                std::string("boundaries/detector_") + statistic.name + " is not [detector, 3]");
      }
  }
  if (a.phase0.present) {
    const Phase0Group& p = a.phase0;
    require(p.pearson.size() == heads && p.spearman.size() == heads && p.pairs.size() == heads,
            "phase0/pearson, spearman and pairs are not [layer, head]");
    for (const HeadRef& head : p.ranking) require(inside(head), "phase0/ranking names " + head_name(head) + ", outside the model");
  }
}

AnalysisGroup read_analysis_group(const std::string& path) {
  Id file = io::open_read_only(path);
  AnalysisGroup a;
  if (h5::has_attribute(file, schema::kLayerCount)) {
    a.layer_count = static_cast<int>(h5::read_int_attribute(file, schema::kLayerCount, path));
    a.head_count = static_cast<int>(h5::read_int_attribute(file, schema::kHeadCount, path));
  }
  if (h5::link_exists(file, kAnalysis) && h5::link_exists(file, kAnalysisHeartbeats)) {
    HeartbeatsGroup& h = a.heartbeats;
    Id group = h5::open_group(file, kAnalysisHeartbeats, path);
    h.present = true;
    h.definition = io::string_or(group, "definition", path);
    h.threshold = io::double_or(group, "threshold", path);
    h.min_run = io::int_or(group, "min_run", path);
    h.telegraph_heads = io::int_or(group, "telegraph_heads", path);
    h.counts = io::int32s(group, "counts", path);
    const auto pairs = io::int32s(group, "telegraph_ranking", path);
    for (std::size_t i = 0; i + 1 < pairs.size(); i += 2) h.telegraph_ranking.push_back({pairs[i], pairs[i + 1]});
    h.telegraph_score = io::doubles(group, "telegraph_score", path);
    h.calibration_level = io::int32s(group, "calibration_level", path);
    h.calibration_mean = io::doubles(group, "calibration_mean", path);
    h.calibration_std = io::doubles(group, "calibration_std", path);
    h.calibration_samples = io::int32s(group, "calibration_samples", path);
    const std::size_t heads = static_cast<std::size_t>(a.layer_count) * a.head_count;
    a.sample_count = heads ? static_cast<int>(h.counts.size() / heads) : 0;
  }
  if (h5::link_exists(file, kAnalysis) && h5::link_exists(file, kAnalysisFlow)) {
    FlowGroup& f = a.flow;
    Id group = h5::open_group(file, kAnalysisFlow, path);
    f.present = true;
    for (double value : io::doubles(group, "mean", path)) f.mean.push_back(static_cast<float>(value));
    for (double value : io::doubles(group, "std", path)) f.std.push_back(static_cast<float>(value));
    std::vector<double>* scores[] = {&f.flow, &f.hub_score, &f.skip, &f.composite};
    for (int s = 0; s < 4; ++s) *scores[s] = io::doubles(group, kFlowScores[s], path);
    f.hub_position = io::int32s(group, "hub_position", path);
    f.normalization = io::string_or(group, "normalization", path);
    if (h5::link_exists(group, "functional_type")) {
      for (const auto& d : kSeedDoubles) f.*d.member = io::doubles(group, d.name, path);
      for (const auto& i : kSeedInts) f.*i.member = io::int32s(group, i.name, path);
      f.criteria = io::string_dataset(group, "criteria", path);
      f.functional_types = io::string_or(group, "functional_types", path);
      f.top_bottom = io::string_or(group, "top_bottom", path);
    }
    const auto dims = h5::extent(Id(h5::open_dataset(group, "mean", path)));
    f.k = dims.size() == 4 ? static_cast<int>(dims[3]) : 0;
  }
  if (h5::link_exists(file, kAnalysis) && h5::link_exists(file, kAnalysisBoundaries)) {
    BoundariesGroup& b = a.boundaries;
    Id group = h5::open_group(file, kAnalysisBoundaries, path);
    b.present = true;
    b.tolerance_tokens = io::int_or(group, "tolerance_tokens", path);
    b.peak_rule = io::string_or(group, "peak_rule", path);
    b.f1 = io::doubles(group, "f1", path);
    if (h5::link_exists(group, "observed")) {
      b.chance_draws = io::int_or(group, "chance_draws", path);
      b.chance_seed = io::int_or(group, "chance_seed", path);
      b.detectors = io::string_dataset(group, "detectors", path);
      for (const auto& statistic : boundary_statistics()) {
        b.*statistic.per_head = io::doubles(group, statistic.name, path);
        b.*statistic.per_detector = io::doubles(group, std::string("detector_") + statistic.name, path);
      }
    }
  }
  if (h5::link_exists(file, kAnalysis) && h5::link_exists(file, kAnalysisPhase0)) {
    Phase0Group& p = a.phase0;
    Id group = h5::open_group(file, kAnalysisPhase0, path);
    p.present = true;
    p.pearson = io::doubles(group, "pearson", path);
    p.spearman = io::doubles(group, "spearman", path);
    p.pairs = io::int64s(group, "pairs", path);
    const auto pairs = io::int32s(group, "ranking", path);
    for (std::size_t i = 0; i + 1 < pairs.size(); i += 2) p.ranking.push_back({pairs[i], pairs[i + 1]});
  }
  check_analysis_shapes(a, path);
  return a;
}

}  // namespace headscope::store
