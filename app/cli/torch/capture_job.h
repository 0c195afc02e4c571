// The processes of one capture job: a process alone (or one --shard I/N array task), or the ranks of an
// MPI job (`mpirun -n N headscope capture ...`, or srun with an MPI plugin). Each rank captures its share
// into its own shard file; rank 0 also gathers every rank's progress over MPI (one line for the whole
// job), rebuilds the master while the shards grow, and writes the final master once every rank reported
// its end. Built without MPI (HEADSCOPE_WITH_MPI off), a launch by mpirun is refused with advice.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace headscope::cli {

// What one rank reports to rank 0.
struct RankProgress {
  std::int64_t samples_done = 0, samples_total = 0, samples_skipped = 0, tokens_done = 0;
  double tokens_per_second = 0, eta_seconds = -1;
  enum Outcome { running = 0, complete = 1, stopped = 2, failed = 3 } outcome = running;
};

class CaptureJob {
 public:
  // Joins the MPI job when this process was launched as one of its ranks (mpirun's or a PMI's environment);
  // otherwise a job of one. Throws std::runtime_error when launched by mpirun without MPI support, or as one
  // of several srun tasks without MPI unless `sharded` (--shard given).
  static std::unique_ptr<CaptureJob> join(bool sharded);
  ~CaptureJob();  // leaves MPI
  CaptureJob(const CaptureJob&) = delete;
  CaptureJob& operator=(const CaptureJob&) = delete;

  bool mpi() const { return size_ > 1 || mpi_; }
  int rank() const { return rank_; }
  int size() const { return size_; }
  int local_rank() const { return local_rank_; }  // index among the ranks on this machine; -1 alone

  // A rank other than 0: its progress to rank 0 (skipped while the previous report is still in flight;
  // a final outcome is always delivered).
  void report(const RankProgress& progress);
  // Rank 0: the latest report of every rank (its own slot left as it was), after taking those that arrived.
  const std::vector<RankProgress>& reports();
  bool all_others_finished();
  // Every rank: waits until all arrive (rank 0 arrives once the final master is written).
  void barrier();

 private:
  CaptureJob() = default;
  int rank_ = 0, size_ = 1, local_rank_ = -1;
  bool mpi_ = false;
  std::vector<RankProgress> reports_;
  struct Pending;
  std::unique_ptr<Pending> pending_;  // an MPI send in flight
};

}  // namespace headscope::cli
