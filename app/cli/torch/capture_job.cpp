// CaptureJob (see capture_job.h): MPI when built with it and launched by it, a job of one otherwise.
// Reports travel as point-to-point messages of 7 doubles with one tag; rank 0 takes them when it polls,
// so no rank ever waits on another until the final barrier.
#include "app/cli/torch/capture_job.h"

#include <chrono>
#include <cstdlib>
#include <stdexcept>
#include <thread>

#ifdef HEADSCOPE_WITH_MPI
#include <mpi.h>
#endif

namespace headscope::cli {

namespace {
// The environment a launcher gives each rank: OpenMPI's mpirun, PMIx (mpirun, srun --mpi=pmix), PMI-2.
bool launched_as_rank() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE"})
    if (std::getenv(name)) return true;
  return false;
}
constexpr int kReportTag = 17;
constexpr int kReportValues = 7;
}  // namespace

struct CaptureJob::Pending {
  double values[kReportValues] = {};
#ifdef HEADSCOPE_WITH_MPI
  MPI_Request request = MPI_REQUEST_NULL;
#endif
};

std::unique_ptr<CaptureJob> CaptureJob::join(bool sharded) {
  std::unique_ptr<CaptureJob> job(new CaptureJob());
  job->pending_ = std::make_unique<Pending>();
  if (!launched_as_rank()) {
    // srun without an MPI plugin starts N plain copies: each would capture every sample into one OUT.
    const char* tasks = std::getenv("SLURM_STEP_NUM_TASKS");
    if (!sharded && tasks && std::atoi(tasks) > 1)
      throw std::runtime_error("started by srun as one of " + std::string(tasks) +
                               " tasks without MPI: use `srun --mpi=pmix headscope capture ...` (one sharded capture), or give "
                               "each task --shard $SLURM_PROCID/$SLURM_NTASKS and `headscope merge` the shards");
    return job;
  }
#ifdef HEADSCOPE_WITH_MPI
  int provided = 0;
  MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);  // only this thread calls MPI
  job->mpi_ = true;
  MPI_Comm_rank(MPI_COMM_WORLD, &job->rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &job->size_);
  MPI_Comm node;
  MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, job->rank_, MPI_INFO_NULL, &node);
  MPI_Comm_rank(node, &job->local_rank_);
  MPI_Comm_free(&node);
  job->reports_.resize(static_cast<std::size_t>(job->size_));
  return job;
#else
  const char* size = std::getenv("OMPI_COMM_WORLD_SIZE");
  if (size && std::atoi(size) > 1)
    throw std::runtime_error("launched as one of " + std::string(size) +
                             " MPI ranks, but this headscope was built without MPI (HEADSCOPE_WITH_MPI): every rank would "
                             "capture everything; install libopenmpi-dev and rebuild, or give each process --shard I/N");
  return job;
#endif
}

CaptureJob::~CaptureJob() {
#ifdef HEADSCOPE_WITH_MPI
  if (mpi_) {
    if (pending_->request != MPI_REQUEST_NULL) MPI_Wait(&pending_->request, MPI_STATUS_IGNORE);
    MPI_Finalize();
  }
#endif
}

void CaptureJob::report(const RankProgress& p) {
#ifdef HEADSCOPE_WITH_MPI
  if (!mpi_ || rank_ == 0) return;
  if (pending_->request != MPI_REQUEST_NULL) {
    int done = 0;
    if (p.outcome == RankProgress::running) {
      MPI_Test(&pending_->request, &done, MPI_STATUS_IGNORE);
      if (!done) return;  // rank 0 has not taken the last one yet: this one would be stale by then
    } else {
      MPI_Wait(&pending_->request, MPI_STATUS_IGNORE);
    }
  }
  double* v = pending_->values;
  v[0] = static_cast<double>(p.samples_done);
  v[1] = static_cast<double>(p.samples_total);
  v[2] = static_cast<double>(p.samples_skipped);
  v[3] = static_cast<double>(p.tokens_done);
  v[4] = p.tokens_per_second;
  v[5] = p.eta_seconds;
  v[6] = static_cast<double>(p.outcome);
  MPI_Isend(v, kReportValues, MPI_DOUBLE, 0, kReportTag, MPI_COMM_WORLD, &pending_->request);
  if (p.outcome != RankProgress::running) MPI_Wait(&pending_->request, MPI_STATUS_IGNORE);
#else
  (void)p;
#endif
}

const std::vector<RankProgress>& CaptureJob::reports() {
#ifdef HEADSCOPE_WITH_MPI
  if (mpi_ && rank_ == 0) {
    for (;;) {
      int arrived = 0;
      MPI_Status status;
      MPI_Iprobe(MPI_ANY_SOURCE, kReportTag, MPI_COMM_WORLD, &arrived, &status);
      if (!arrived) break;
      double v[kReportValues];
      MPI_Recv(v, kReportValues, MPI_DOUBLE, status.MPI_SOURCE, kReportTag, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      RankProgress& p = reports_[static_cast<std::size_t>(status.MPI_SOURCE)];
      if (p.outcome != RankProgress::running) continue;  // an outcome is final
      p.samples_done = static_cast<std::int64_t>(v[0]);
      p.samples_total = static_cast<std::int64_t>(v[1]);
      p.samples_skipped = static_cast<std::int64_t>(v[2]);
      p.tokens_done = static_cast<std::int64_t>(v[3]);
      p.tokens_per_second = v[4];
      p.eta_seconds = v[5];
      p.outcome = static_cast<RankProgress::Outcome>(static_cast<int>(v[6]));
    }
  }
#endif
  return reports_;
}

bool CaptureJob::all_others_finished() {
  const auto& all = reports();
  for (std::size_t r = 1; r < all.size(); ++r)
    if (all[r].outcome == RankProgress::running) return false;
  return true;
}

void CaptureJob::barrier() {
#ifdef HEADSCOPE_WITH_MPI
  if (!mpi_) return;
  // Not MPI_Barrier: MPI libraries spin in it, and a rank that finished early would take a core from the
  // ranks still capturing (rank 0 among them) until the job ends.
  MPI_Request request;
  MPI_Ibarrier(MPI_COMM_WORLD, &request);
  for (int done = 0;;) {
    MPI_Test(&request, &done, MPI_STATUS_IGNORE);
    if (done) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
#endif
}

}  // namespace headscope::cli
