// The progress line of every long command (app/cli/progress_line.h), driven by an injected clock into a
// memory stream: a log gets a plain line at once and then one per interval, never a carriage return; a
// terminal gets one line redrawn at most 10 times a second, messages above it and a final newline. And
// `headscope ib` with stderr to a file writes a bounded number of plain progress lines (issue 21).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "app/cli/progress_line.h"
#include "cli_support.h"

namespace {

using headscope::cli::format_progress;
using headscope::cli::format_seconds;
using headscope::cli::ProgressFigures;
using headscope::cli::ProgressLine;

// A FILE* writing into a string, and a clock the test moves.
struct Capture {
  char* buffer = nullptr;
  std::size_t size = 0;
  std::FILE* out = open_memstream(&buffer, &size);
  double now = 0;
  ProgressLine::Clock clock() {
    return [this] { return now; };
  }
  std::string text() {
    std::fflush(out);
    return std::string(buffer, size);
  }
  ~Capture() {
    std::fclose(out);
    std::free(buffer);
  }
};

long count(const std::string& text, char c) { return static_cast<long>(std::count(text.begin(), text.end(), c)); }

}  // namespace

TEST(ProgressLine, FormatsDurationsAsCaptureAlwaysDid) {
  EXPECT_EQ(format_seconds(7), "0m07s");
  EXPECT_EQ(format_seconds(750), "12m30s");
  EXPECT_EQ(format_seconds(7500), "2h05m");
  EXPECT_EQ(format_seconds(-1), "?");
  EXPECT_EQ(format_seconds(1e300), "?");
}

TEST(ProgressLine, EtaFromTheRateSoFarUnlessGiven) {
  ProgressFigures f{2, 10, "samples", 150, "tokens/s", 4, {}, "layer 3/12"};
  EXPECT_EQ(format_progress(f), "2/10 samples  150 tokens/s  elapsed 0m04s  eta 0m16s  layer 3/12");
  f.eta_seconds = -1;  // unknown
  EXPECT_NE(format_progress(f).find("eta ?"), std::string::npos);
  f.done = 0;
  f.eta_seconds.reset();
  EXPECT_NE(format_progress(f).find("eta ?"), std::string::npos) << "nothing done yet: no rate to extrapolate";
  f.total = 0;  // no total: no ETA at all
  EXPECT_EQ(format_progress(f).find("eta"), std::string::npos);
}

TEST(ProgressLine, ALogGetsAPlainLineAtOnceThenOnePerInterval) {
  Capture capture;
  {
    ProgressLine line(false, 10, capture.out, capture.clock());
    for (int tenth = 0; tenth <= 250; ++tenth) {  // 25 s of updates, 10 a second
      capture.now = tenth / 10.0;
      line.update("step " + std::to_string(tenth));
    }
    line.finish();
  }
  const std::string log = capture.text();
  EXPECT_EQ(count(log, '\r'), 0);
  EXPECT_EQ(log, "step 0\nstep 100\nstep 200\n");  // at 0 s, 10 s and 20 s
}

TEST(ProgressLine, ATerminalGetsOneLineRedrawnAtMostTenTimesASecond) {
  Capture capture;
  {
    ProgressLine line(true, 10, capture.out, capture.clock());
    for (int hundredth = 0; hundredth < 100; ++hundredth) {  // 1 s of updates, 100 a second
      capture.now = hundredth / 100.0;
      line.update("at " + std::to_string(hundredth));
    }
  }  // the destructor ends the line, showing the latest text
  const std::string screen = capture.text();
  EXPECT_LE(count(screen, '\r'), 12);
  EXPECT_GE(count(screen, '\r'), 9);
  EXPECT_EQ(count(screen, '\n'), 1);
  const std::string tail = "\r\033[Kat 99\n";
  ASSERT_GE(screen.size(), tail.size());
  EXPECT_EQ(screen.substr(screen.size() - tail.size()), tail);
}

TEST(ProgressLine, MessagesGoAboveTheLineAndAClearedLineComesBackAtOnce) {
  Capture capture;
  ProgressLine line(true, 10, capture.out, capture.clock());
  line.update("1/3");
  line.message("wrote out.h5");
  EXPECT_EQ(capture.text(), "\r\033[K1/3\r\033[Kwrote out.h5\n\r\033[K1/3");
  line.clear();
  EXPECT_TRUE(line.update("2/3")) << "redrawn although the 0.1 s have not passed";
  line.finish();
  EXPECT_EQ(capture.text(), "\r\033[K1/3\r\033[Kwrote out.h5\n\r\033[K1/3\r\033[K\r\033[K2/3\r\033[K2/3\n");
  Capture log;
  ProgressLine plain(false, 10, log.out, log.clock());
  plain.message("wrote out.h5");
  plain.finish();
  EXPECT_EQ(log.text(), "wrote out.h5\n") << "a log gets the message alone, and no final line";
}

// A real command with stderr to a file: plain lines, as many as the interval allows, at least the first.
TEST(ProgressLine, IbWritesABoundedNumberOfPlainLinesToALog) {
  const auto sample = headscope::test::fixtures_dir() / ".." / ".." / "samples" / "sample.h5";
  HEADSCOPE_REQUIRE_PATH(sample);
  const auto dir = headscope::test::temp_dir();
  const double every = 0.2;
  const auto start = std::chrono::steady_clock::now();
  const auto result = headscope::test::run_headscope("ib --embeddings " + sample.string() + " --out " + (dir / "ib.h5").string() +
                                                     " --quiet --progress-every " + std::to_string(every));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(count(result.err, '\r'), 0) << result.err;
  long progress_lines = 0;
  for (std::size_t at = result.err.find("beta steps"); at != std::string::npos; at = result.err.find("beta steps", at + 1)) ++progress_lines;
  EXPECT_GE(progress_lines, 1) << result.err;
  EXPECT_LE(progress_lines, static_cast<long>(seconds / every) + 2) << result.err;
}
