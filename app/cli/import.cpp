// `headscope import {jsd|iaf|csv|flow} INPUT... --out FILE.h5 [--layers N --heads N]`: turns an earlier
// pipeline's files into a store of kind `import`, with progress on stderr and a one-screen summary.
// The hidden `headscope import --make-samples DIR` writes the sample files of samples/imports/.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>

#include "app/cli/bind_options.h"
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
  std::string make_samples;
};

std::string human_count(double n) {
  char buffer[32];
  if (n >= 1e6) std::snprintf(buffer, sizeof buffer, "%.1fM", n / 1e6);
  else if (n >= 1e4) std::snprintf(buffer, sizeof buffer, "%.0fk", n / 1e3);
  else std::snprintf(buffer, sizeof buffer, "%.0f", n);
  return buffer;
}

// A progress line on stderr: redrawn in place on a terminal, every few seconds otherwise.
headscope::io::ProgressCallback progress_printer() {
  const bool terminal = isatty(fileno(stderr));
  auto last_printed = std::make_shared<double>(-10.0);
  return [terminal, last_printed](const headscope::io::ImportProgress& p) {
    if (!terminal && p.seconds - *last_printed < 5.0) return;
    *last_printed = p.seconds;
    const double percent = p.bytes_total ? 100.0 * static_cast<double>(p.bytes_read) / p.bytes_total : 0.0;
    std::fprintf(stderr, "%s  %5.1f%%  %s records (%s/s)  %lld samples  %s%s", terminal ? "\r\033[K" : "", percent,
                 human_count(static_cast<double>(p.rows)).c_str(), human_count(p.seconds > 0 ? p.rows / p.seconds : 0).c_str(),
                 static_cast<long long>(p.samples), p.file.c_str(), terminal ? "" : "\n");
  };
}

void run(const ImportArgs& args) {
  if (!args.make_samples.empty()) {
    const auto written = headscope::io::make_import_samples(args.make_samples);
    for (const auto& path : written) std::printf("%s\n", path.c_str());
    return;
  }
  if (args.format.empty() || args.inputs.empty() || args.out.empty())
    throw headscope::io::ImportError("usage: headscope import {jsd|iaf|csv|flow} INPUT... --out FILE.h5");
  headscope::io::ImportOptions options;
  options.inputs = args.inputs;
  options.out = args.out;
  options.layers = args.layers;
  options.heads = args.heads;
  options.overwrite = args.overwrite;
  options.command_line = headscope::cli::command_line();
  if (!args.quiet) options.progress = progress_printer();
  const auto summary = headscope::io::import_format(args.format, options);
  if (!args.quiet && isatty(fileno(stderr))) std::fprintf(stderr, "\r\033[K");
  std::printf("%s", headscope::io::format_summary(summary).c_str());
}

void setup(CLI::App& app) {
  auto* cmd = app.add_subcommand("import", "Import an earlier pipeline's files (jsd, iaf, csv, flow) into a HeadScope store");
  auto args = std::make_shared<ImportArgs>();
  cmd->add_option("format", args->format, "jsd | iaf | csv | flow")->check(CLI::IsMember({"jsd", "iaf", "csv", "flow"}));
  cmd->add_option("inputs", args->inputs, "Source files or folders (folders are searched recursively)");
  cmd->add_option("--out,-o", args->out, "The store to create (.h5)");
  cmd->add_option("--layers", args->layers, "Layer count (default: from the data)")
      ->check(headscope::cli::in_range("--layers", 1, headscope::io::detail::kMaxImportLayers));
  cmd->add_option("--heads", args->heads, "Heads per layer (default: from the data)")
      ->check(headscope::cli::in_range("--heads", 1, headscope::io::detail::kMaxImportHeads));
  cmd->add_flag("--overwrite", args->overwrite, "Replace an existing output file");
  cmd->add_flag("--quiet,-q", args->quiet, "No progress on stderr");
  cmd->add_option("--make-samples", args->make_samples, "Write the sample files of samples/imports/ into DIR")->group("");
  cmd->callback([args] { run(*args); });
}

HEADSCOPE_REGISTER_SUBCOMMAND(setup);

}  // namespace
