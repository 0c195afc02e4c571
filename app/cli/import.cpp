// `headscope import {jsd|iaf|csv|flow|v6} INPUT... --out FILE.h5 [--layers N --heads N]`: turns an earlier
// pipeline's files into a store of kind `import`, with progress on stderr (app/cli/progress_line.h) and a
// one-screen summary.
// The hidden `headscope import --make-samples DIR` writes the sample files of samples/imports/.
#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdio>
#include <memory>

#include "app/cli/bind_options.h"
#include "app/cli/progress_line.h"
#include "app/cli/registry.h"
#include "core/io/import_support.h"
#include "core/io/import.h"
#include "core/io/sample_files.h"

namespace {

struct ImportArgs {
  std::string format;
  std::vector<std::string> inputs;
  std::string out;
  int layers = 0, heads = 0;
  bool overwrite = false, quiet = false;
  double progress_every = 10;
  std::string make_samples;
};

// Each progress report as one progress line: bytes read of all, records/s, ETA, samples and the file.
headscope::io::ProgressCallback progress_printer(headscope::cli::ProgressLine& line) {
  return [&line](const headscope::io::ImportProgress& p) {
    const double total = static_cast<double>(p.bytes_total);
    const double scale = total >= 1e9 ? 1e9 : total >= 1e6 ? 1e6 : 1e3;
    const std::string samples = std::to_string(p.samples) + " samples  " + p.file;
    line.update({std::round(static_cast<double>(p.bytes_read) / scale * 10) / 10, std::round(total / scale * 10) / 10,
                 scale == 1e9 ? "GB" : scale == 1e6 ? "MB" : "kB", p.seconds > 0 ? static_cast<double>(p.rows) / p.seconds : 0,
                 "records/s", p.seconds, {}, samples});
  };
}

void run(const ImportArgs& args) {
  if (!args.make_samples.empty()) {
    const auto written = headscope::io::make_import_samples(args.make_samples);
    for (const auto& path : written) std::printf("%s\n", path.c_str());
    return;
  }
  if (args.format.empty() || args.inputs.empty() || args.out.empty())
    throw headscope::io::ImportError("usage: headscope import {jsd|iaf|csv|flow|v6} INPUT... --out FILE.h5");
  headscope::io::ImportOptions options;
  options.inputs = args.inputs;
  options.out = args.out;
  options.layers = args.layers;
  options.heads = args.heads;
  options.overwrite = args.overwrite;
  options.command_line = headscope::cli::command_line();
  headscope::cli::ProgressLine line(args.progress_every);
  if (!args.quiet) options.progress = progress_printer(line);
  const auto summary = headscope::io::import_format(args.format, options);
  line.clear();  // the summary replaces the progress line on a terminal
  std::printf("%s", headscope::io::format_summary(summary).c_str());
}

void setup(CLI::App& app) {
  auto* cmd = app.add_subcommand("import", "Import an earlier pipeline's files (jsd, iaf, csv, flow, v6) into a HeadScope store");
  auto args = std::make_shared<ImportArgs>();
  cmd->add_option("format", args->format, "jsd | iaf | csv | flow | v6")->check(CLI::IsMember({"jsd", "iaf", "csv", "flow", "v6"}));
  cmd->add_option("inputs", args->inputs, "Source files or folders (folders are searched recursively)");
  cmd->add_option("--out,-o", args->out, "The store to create (.h5)");
  cmd->add_option("--layers", args->layers, "Layer count (default: from the data)")
      ->check(headscope::cli::in_range("--layers", 1, headscope::io::detail::kMaxImportLayers));
  cmd->add_option("--heads", args->heads, "Heads per layer (default: from the data)")
      ->check(headscope::cli::in_range("--heads", 1, headscope::io::detail::kMaxImportHeads));
  cmd->add_flag("--overwrite", args->overwrite, "Replace an existing output file");
  cmd->add_flag("--quiet,-q", args->quiet, "No progress on stderr");
  headscope::cli::add_progress_every(cmd, args->progress_every);
  cmd->add_option("--make-samples", args->make_samples, "Write the sample files of samples/imports/ into DIR")->group("");
  cmd->callback([args] { run(*args); });
}

HEADSCOPE_REGISTER_SUBCOMMAND(setup);

}  // namespace
