// to_arguments and equality of the command structs (capture, sweep, gain-scan): both loop over
// the command's option table, so a new option is declared once.
#include "core/commands/capture_command.h"
#include "core/commands/gain_scan_command.h"
#include "core/commands/sweep_command.h"

namespace headscope::commands {

namespace {
template <typename Command>
bool same_options(const Command& a, const Command& b) {
  bool same = true;
  Command::for_each_option([&](const OptionSpec&, auto member) { same = same && a.*member == b.*member; });
  return same;
}
}  // namespace

bool CaptureCommand::operator==(const CaptureCommand& o) const { return same_options(*this, o); }
std::vector<std::string> to_arguments(const CaptureCommand& command) { return render_arguments("capture", command); }

bool SweepCommand::operator==(const SweepCommand& o) const { return same_options(*this, o); }
std::vector<std::string> to_arguments(const SweepCommand& command) { return render_arguments("sweep", command); }

bool GainScanCommand::operator==(const GainScanCommand& o) const { return same_options(*this, o); }
std::vector<std::string> to_arguments(const GainScanCommand& command) { return render_arguments("gain-scan", command); }

}  // namespace headscope::commands
