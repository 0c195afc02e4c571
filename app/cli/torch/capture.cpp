// `headscope capture`: run a model over a prompt set and stream every head's per-token metrics into a
// store, with progress (samples, tokens/s, ETA, the layer within a long sample): one updating line on a
// terminal, a plain line every --progress-every seconds in a log; Ctrl-C (or SIGTERM, as Slurm sends)
// stops after the current sample, leaves an incomplete store that `--resume` continues and exits 130 (an
// error exits 1, likewise resumable). Sharded (--shard I/N, or one MPI rank of `mpirun -n N`): the store
// is this share's shard file; under MPI rank 0 prints the job's progress and writes the master OUT.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <memory>
#include <thread>

#include "app/cli/bind_options.h"
#include "app/cli/progress_line.h"
#include "app/cli/registry.h"
#include "app/cli/torch/capture_job.h"
#include "capture/session/capture_session.h"
#include "core/store/master.h"

namespace {

using headscope::cli::CaptureJob;
using headscope::cli::RankProgress;
using Clock = std::chrono::steady_clock;

volatile std::sig_atomic_t interrupted = 0;
void on_interrupt(int) { interrupted = 1; }

// How often rank 0 rebuilds the master of a live MPI capture, so readers watch the run grow.
constexpr double kMasterEverySeconds = 5;

RankProgress as_report(const headscope::capture::CaptureProgress& p) {
  RankProgress r;
  r.samples_done = p.samples_done;
  r.samples_total = p.samples_total;
  r.samples_skipped = p.samples_skipped;
  r.tokens_done = p.tokens_done;
  r.tokens_per_second = p.tokens_per_second;
  r.eta_seconds = p.eta_seconds;
  return r;
}

// One progress line: this process's, or under MPI the whole job's (sums; the ETA of the slowest rank).
std::string progress_text(const headscope::capture::CaptureProgress& own, const std::vector<RankProgress>* ranks) {
  RankProgress sum = as_report(own);
  std::string layers;
  if (ranks) {
    for (std::size_t r = 1; r < ranks->size(); ++r) {
      const auto& p = (*ranks)[r];
      sum.samples_done += p.samples_done;
      sum.samples_total += p.samples_total;
      sum.samples_skipped += p.samples_skipped;
      sum.tokens_per_second += p.outcome == RankProgress::running ? p.tokens_per_second : 0;
      sum.eta_seconds = sum.eta_seconds < 0 || p.eta_seconds < 0 ? -1 : std::max(sum.eta_seconds, p.eta_seconds);
    }
    layers = std::to_string(ranks->size()) + " ranks";
  } else if (own.current_tokens > 0) {
    layers = "sample of " + std::to_string(own.current_tokens) + " tokens: layer " + std::to_string(own.current_layers_done) + "/" +
             std::to_string(own.layer_count);
  }
  const std::string skipped = sum.samples_skipped ? " (+" + std::to_string(sum.samples_skipped) + " already stored)" : "";
  return headscope::cli::format_progress({static_cast<double>(sum.samples_done), static_cast<double>(sum.samples_total),
                                          "samples" + skipped, sum.tokens_per_second, "tokens/s", own.elapsed_seconds,
                                          sum.eta_seconds, layers});
}

// Rank 0's master over every shard path; a failure (no shard file yet) is reported once it matters.
std::string write_master(const headscope::capture::CaptureSettings& settings, const std::string& master, int shards,
                         headscope::store::MasterInfo* info) {
  std::vector<std::string> paths;
  for (int i = 0; i < shards; ++i) paths.push_back(headscope::store::shard_path(master, i, shards));
  try {
    auto built = headscope::store::build_master(master, paths, settings.command_line);
    if (info) *info = std::move(built);
    return "";
  } catch (const std::exception& e) {
    return e.what();
  }
}

void setup(CLI::App& app) {
  auto* cmd = app.add_subcommand("capture", "Run a model over prompts and store every head's metrics at every token");
  auto command = std::make_shared<headscope::commands::CaptureCommand>();
  headscope::cli::bind_options(cmd, *command);
  cmd->get_option("--prompts")->excludes(cmd->get_option("--shards"));
  cmd->get_option("--shards")->excludes(cmd->get_option("--prompts"));
  cmd->callback([command] {
    auto job = CaptureJob::join(!command->shard.empty());
    auto request = *command;
    if (job->mpi()) {
      if (!request.shard.empty()) throw std::runtime_error("--shard: under MPI each rank takes its own share; leave --shard out");
      request.shard = std::to_string(job->rank()) + "/" + std::to_string(job->size());
    }
    auto settings = headscope::capture::capture_settings(request, headscope::cli::command_line());
    settings.local_rank = job->local_rank();
    const std::string master = settings.out_path;
    const bool root = job->rank() == 0;
    const std::string who = job->mpi() ? "rank " + std::to_string(job->rank()) + ": " : "";
    headscope::capture::CaptureSession session(settings);
    std::signal(SIGINT, on_interrupt);  // before the threads start: a Ctrl-C is never the default kill
    std::signal(SIGTERM, on_interrupt);

    std::string error;
    bool started = false;
    try {
      session.start();
      started = true;
    } catch (const std::exception& e) {
      if (!job->mpi()) throw;
      error = e.what();  // the other ranks go on; rank 0 still writes the master of what they capture
    }
    const std::string store = settings.shard_count > 0 ? headscope::store::shard_path(master, settings.shard_index, settings.shard_count) : master;
    if (started && root)
      std::fprintf(stderr, "capturing %s -> %s%s\n", (settings.prompts_path.empty() ? settings.shards_path : settings.prompts_path).c_str(),
                   master.c_str(), job->mpi() ? (" (" + std::to_string(job->size()) + " ranks, one shard each)").c_str()
                                   : settings.shard_count > 0 ? (" shard " + store).c_str() : "");
    // A terminal gets one updating line; a log file gets a plain line every --progress-every seconds.
    headscope::cli::ProgressLine line(command->progress_every);
    auto last_master = Clock::now();
    auto own = [&] { return started ? session.progress() : headscope::capture::CaptureProgress{}; };
    auto own_running = [&] { return started && session.progress().running; };
    while (own_running() || (job->mpi() && root && !job->all_others_finished())) {
      if (interrupted) {
        if (started) session.cancel();
        interrupted = 0;
        if (root) line.message("stopping after the current sample...");
      }
      const auto now = Clock::now();
      if (job->mpi() && !root) {
        job->report(as_report(own()));
      } else {
        line.update(progress_text(own(), job->mpi() ? &job->reports() : nullptr));
      }
      if (job->mpi() && root && now - last_master >= std::chrono::duration<double>(kMasterEverySeconds)) {
        last_master = now;
        write_master(settings, master, job->size(), nullptr);  // not all shards may exist yet: the next one will
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    if (started) {
      try {
        session.wait();
      } catch (const std::exception& e) {
        error = e.what();
      }
    }
    line.finish();
    const auto p = own();
    RankProgress end = as_report(p);
    end.outcome = !error.empty() ? RankProgress::failed : p.complete ? RankProgress::complete : RankProgress::stopped;
    if (!error.empty() && job->mpi()) std::fprintf(stderr, "%serror: %s\n", who.c_str(), error.c_str());
    if (!error.empty() && !job->mpi()) throw std::runtime_error(error);  // with its resume advice
    if (started && (root || !job->mpi()))
      std::fprintf(stderr, "%s%s %lld samples, %lld tokens in %s (%.1f tokens/s) -> %s\n", who.c_str(),
                   p.cancelled ? "cancelled after" : "captured", static_cast<long long>(p.samples_done),
                   static_cast<long long>(p.tokens_done), headscope::cli::format_seconds(p.elapsed_seconds).c_str(),
                   p.elapsed_seconds > 0 ? static_cast<double>(p.tokens_done) / p.elapsed_seconds : 0.0, store.c_str());

    int failed_ranks = end.outcome == RankProgress::failed, stopped_ranks = end.outcome == RankProgress::stopped;
    if (job->mpi() && !root) {
      job->report(end);
    } else if (job->mpi()) {
      for (std::size_t r = 1; r < job->reports().size(); ++r) {
        failed_ranks += job->reports()[r].outcome == RankProgress::failed;
        stopped_ranks += job->reports()[r].outcome == RankProgress::stopped;
      }
      headscope::store::MasterInfo info;
      if (const std::string why = write_master(settings, master, job->size(), &info); !why.empty()) {
        std::fprintf(stderr, "error: the master %s was not written: %s\n", master.c_str(), why.c_str());
        failed_ranks += 1;
      } else {
        std::fprintf(stderr, "master %s: %lld samples from %d shards%s\n", master.c_str(), static_cast<long long>(info.samples),
                     job->size(), info.complete ? "" : " (incomplete: `headscope inspect` lists the shards; rerun with --resume)");
      }
    }
    job->barrier();  // every rank leaves once the master is written
    if (!job->mpi() && settings.shard_count > 0 && p.complete) {
      std::string every = headscope::store::shard_path(master, 0, settings.shard_count);
      every.replace(every.rfind(".shard-0-of-") + 7, 1, "*");
      std::fprintf(stderr, "shard %d/%d done; once every shard is: headscope merge %s %s\n", settings.shard_index, settings.shard_count,
                   master.c_str(), every.c_str());
    }
    if (failed_ranks > 0) throw CLI::RuntimeError(1);
    if (stopped_ranks > 0 || !p.complete) {  // cancelled before every sample was stored
      if (started && (root || !job->mpi())) std::fprintf(stderr, "%s\n", session.resume_advice().c_str());
      throw CLI::RuntimeError(130);  // as a shell reports a command stopped by SIGINT
    }
  });
}

HEADSCOPE_REGISTER_SUBCOMMAND(setup);

}  // namespace
