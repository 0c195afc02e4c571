// `headscope merge OUT.h5 SHARD...`: the master of a sharded capture (--shard I/N array jobs, or an MPI run
// whose master is to be rebuilt): every dataset a virtual dataset over the shards' committed rows, in
// shard order, whatever order the shards are given in. Every shard of the run must be given; shards still
// being written are mapped as far as they are committed (merge again later for the rest).
#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>
#include <memory>

#include "app/cli/bind_options.h"
#include "app/cli/registry.h"
#include "core/store/file_replace.h"
#include "core/store/master.h"
#include "core/store/reader.h"

namespace {

namespace store = headscope::store;

// The shard files in the order of their recorded places; every place of the run exactly once.
std::vector<std::string> shards_in_order(const std::vector<std::string>& files) {
  std::vector<std::string> ordered;
  for (const auto& file : files) {
    const auto reader = store::StoreReader::open(file);
    const auto place = store::shard_place(reader->provenance(), file);
    if (!place) throw store::StoreError(file + ": not a shard (captured without --shard or MPI)");
    if (ordered.empty()) ordered.resize(static_cast<std::size_t>(place->count));
    if (static_cast<int>(ordered.size()) != place->count)
      throw store::StoreError(file + ": is shard " + std::to_string(place->index) + " of " + std::to_string(place->count) + ", not of " +
                              std::to_string(ordered.size()) + " like " + files.front());
    auto& slot = ordered[static_cast<std::size_t>(place->index)];
    if (!slot.empty()) throw store::StoreError(file + ": shard " + std::to_string(place->index) + " is given twice (also " + slot + ")");
    slot = file;
  }
  std::string missing;
  for (std::size_t i = 0; i < ordered.size(); ++i)
    if (ordered[i].empty()) missing += (missing.empty() ? "" : ", ") + std::to_string(i);
  if (!missing.empty())
    throw store::StoreError("merge: shard " + missing + " of " + std::to_string(ordered.size()) + " not given (" + files.front() +
                            " is one of " + std::to_string(ordered.size()) + ")");
  return ordered;
}

void setup(CLI::App& app) {
  auto* cmd = app.add_subcommand("merge", "Join the shard files of a sharded capture into one master store (HDF5 virtual datasets)");
  auto out = std::make_shared<std::string>();
  auto shards = std::make_shared<std::vector<std::string>>();
  auto overwrite = std::make_shared<bool>(false);
  cmd->add_option("out", *out, "The master to write (.h5)")->required();
  cmd->add_option("shards", *shards, "Every shard file of the run (OUT.shard-I-of-N.h5), in any order")->required();
  cmd->add_flag("--overwrite", *overwrite, "Replace OUT when it is not already a master");
  cmd->callback([out, shards, overwrite] {
    std::error_code ec;
    if (std::filesystem::exists(*out, ec)) {
      store::check_replaceable(*out, true);
      bool master = false;
      try {
        master = store::read_master(*out).has_value();
      } catch (const std::exception&) {  // unreadable: replaced only with --overwrite
      }
      if (!master && !*overwrite) throw store::StoreError(*out + ": exists and is not a master; --overwrite replaces it");
    }
    const auto ordered = shards_in_order(*shards);
    const auto info = store::build_master(*out, ordered, headscope::cli::command_line());
    std::int64_t live = 0;
    for (const auto& shard : info.shards) live += shard.live;
    std::printf("%s: %lld samples from %zu shards%s\n", out->c_str(), static_cast<long long>(info.samples), info.shards.size(),
                info.complete ? " (complete)"
                : live        ? " (shards still being written: merge again when they finish)"
                              : " (incomplete: `headscope inspect` lists the shards; resume them with --resume)");
  });
}

HEADSCOPE_REGISTER_SUBCOMMAND(setup);

}  // namespace
