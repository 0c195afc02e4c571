// The importer dispatch and the one-screen summary printed after an import (see import.h).
#include "core/io/import.h"

#include <cstdio>
#include <sstream>

namespace headscope::io {

ImportSummary import_format(const std::string& format, const ImportOptions& options) {
  if (format == "jsd") return import_jsd(options);
  if (format == "iaf") return import_iaf(options);
  if (format == "csv") return import_csv(options);
  if (format == "flow") return import_flow(options);
  if (format == "v6") return import_v6(options);
  throw ImportError("unknown import format '" + format + "' (expected jsd, iaf, csv, flow or v6)");
}

std::string format_summary(const ImportSummary& s) {
  std::ostringstream out;
  char line[256];
  out << "imported " << s.format << " -> " << s.out << "\n";
  out << "  sources    " << s.sources.size() << " file" << (s.sources.size() == 1 ? "" : "s");
  if (!s.sources.empty()) out << " (" << s.sources.front() << (s.sources.size() > 1 ? ", ..." : "") << ")";
  out << "\n";
  std::snprintf(line, sizeof line, "  read       %lld source records in %.2f s (%.0f records/s)\n", static_cast<long long>(s.rows),
                s.seconds, s.seconds > 0 ? s.rows / s.seconds : 0.0);
  out << line;
  out << "  store      " << s.samples << " samples, " << s.tokens << " tokens, " << s.layers << " layers x " << s.heads << " heads\n";
  out << "  metrics    ";
  if (s.metrics.empty()) out << "none";
  for (std::size_t i = 0; i < s.metrics.size(); ++i) out << (i ? ", " : "") << s.metrics[i];
  out << "\n";
  if (!s.missing.empty()) {
    out << "  missing    ";
    for (std::size_t i = 0; i < s.missing.size(); ++i) out << (i ? "\n             " : "") << s.missing[i];
    out << "\n";
  }
  for (const auto& note : s.notes) out << "  note       " << note << "\n";
  return out.str();
}

}  // namespace headscope::io
