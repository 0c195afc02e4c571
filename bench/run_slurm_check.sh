#!/usr/bin/env bash
# Checks the Slurm examples (docs/examples/slurm-*.sbatch) on a real, private single-node Slurm started as
# root in a temp dir (munged, slurmctld, slurmd on non-default ports) and torn down on exit: MPI hello per
# srun --mpi plugin; the MPI capture (srun, mpirun); the array capture + dependent merge; a lost shard rerun
# with --resume. Each master is checked with `headscope inspect` and h5diff against the others.
#   bench/run_slurm_check.sh [BUILD_DIR]     env: SAMPLES (12), RANKS (3), MODEL (samples/models/arith-gpt2)
set -euo pipefail
PATH=$PATH:/usr/sbin:/sbin  # slurmctld, slurmd and munged live in sbin
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-${HEADSCOPE_BUILD_DIR:-$root/build}}" && pwd)
headscope=$build/headscope
samples=${SAMPLES:-12}; ranks=${RANKS:-3}
model=${MODEL:-$root/samples/models/arith-gpt2}; prompts=$root/samples/prompts/arith_heldout.jsonl
examples=$root/docs/examples
started=$(date +%s)
deadline=$((started + ${CHECK_LIMIT:-240}))  # a hang guard for every job together, far above the ~40 s they need

fail() { echo "FAIL: $*" >&2; exit 1; }
step() { printf '\n== %s (%ds)\n' "$*" $(($(date +%s) - started)); }
skip() { echo "SKIP: $*" >&2; exit 77; }  # 77: ctest's SKIP_RETURN_CODE for this check
[ "$(id -u)" = 0 ] || skip "needs root: it starts munged, slurmctld and slurmd"
for tool in munged munge slurmctld slurmd sbatch srun sinfo scontrol h5diff mpirun; do
  command -v "$tool" >/dev/null || skip "$tool not found (apt-get install slurm-wlm munge openmpi-bin hdf5-tools)"
done
[ -x "$headscope" ] || fail "$headscope: no headscope binary in the build folder"

work=$(mktemp -d /tmp/headscope-slurm.XXXXXX)
chmod 755 "$work"  # munged wants its socket's folder searchable by every user
teardown() {
  local status=$?
  local pids=() pid
  if [ -n "${SLURM_CONF:-}" ] && [ -n "$(squeue -h 2>/dev/null)" ]; then  # jobs left by a failure: their steps
    scancel --user=root 2>/dev/null || true                                   # and ranks would outlive slurmd
    for _ in $(seq 100); do [ -z "$(squeue -h 2>/dev/null)" ] && break; sleep 0.1; done
  fi
  for pid_file in "$work/slurmd.pid" "$work/slurmctld.pid" "$work/munge/munged.pid"; do
    [ -s "$pid_file" ] && pids+=("$(cat "$pid_file")")
  done
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done  # bounded: 10 s, then SIGKILL
    kill -9 "$pid" 2>/dev/null || true
  done
  if [ "$status" != 0 ]; then
    echo "--- logs of the failed check (kept in $work)" >&2
    tail -n 30 "$work"/log/*.log "$work"/out/*.log >&2 2>/dev/null || true
  else
    rm -rf "$work"
  fi
  exit "$status"
}
trap teardown EXIT
trap 'exit 130' INT; trap 'exit 143' TERM  # a stopped check tears down too

step "munged"
mkdir -p "$work/munge" "$work/log" "$work/state" "$work/spool" "$work/tmp" "$work/out"
dd if=/dev/urandom of="$work/munge/munge.key" bs=1024 count=1 status=none
chmod 700 "$work/munge"; chmod 600 "$work/munge/munge.key"
munged --force --socket="$work/munge/socket" --key-file="$work/munge/munge.key" --pid-file="$work/munge/munged.pid" \
  --log-file="$work/log/munged.log" --seed-file="$work/munge/seed"
munge --socket="$work/munge/socket" --no-input | unmunge --socket="$work/munge/socket" >/dev/null ||
  fail "munged ($work/log/munged.log): a credential does not round-trip"

step "slurmctld + slurmd"
node=$(hostname -s)
port=$((20000 + $$ % 20000))  # two ports from here on, away from Slurm's 6817/6818
# At least RANKS CPUs even on a smaller machine: config_overrides lets slurmd take the configured count.
cpus=$(nproc); [ "$cpus" -ge "$ranks" ] || cpus=$ranks
cat > "$work/slurm.conf" <<EOF
ClusterName=headscope-check
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$work/munge/socket
CredType=cred/munge
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
TmpFS=$work/tmp
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/log/slurmctld.log
SlurmdLogFile=$work/log/slurmd.log
SlurmdParameters=config_overrides
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
ReturnToService=2
NodeName=$node NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=check Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF=$work/slurm.conf
slurmctld -c -i
slurmd -N "$node"
for _ in $(seq 300); do  # bounded: 30 s
  [ "$(sinfo -h -n "$node" -o %t 2>/dev/null)" = idle ] && break
  sleep 0.1
done
[ "$(sinfo -h -n "$node" -o %t)" = idle ] || fail "node $node did not become idle within 30 s: $(sinfo -h -N -o '%t %E')"
sinfo -N -o '%N %t %c'

step "srun hostname"
[ "$(timeout 30 srun -n 2 hostname | sort -u)" = "$(hostname)" ] || fail "srun -n 2 hostname"
echo "srun -n 2 hostname: ok"

step "MPI under srun"
srun --mpi=list 2>&1 | tr '\n\t' '  ' | sed 's/ *$//'; echo
if command -v mpicc >/dev/null; then
  cat > "$work/hello.c" <<'EOF'
#include <mpi.h>
#include <stdio.h>
int main(int argc, char** argv) {
  int rank = 0, size = 0, one = 1, sum = 0;
  MPI_Init(&argc, &argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  MPI_Allreduce(&one, &sum, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  if (rank == 0) printf("%d ranks, allreduce %d\n", size, sum);
  MPI_Finalize();
  return sum == size ? 0 : 1;
}
EOF
  mpicc -o "$work/hello" "$work/hello.c"
  for plugin in pmix pmi2 none; do
    if timeout 30 srun -n 2 --mpi="$plugin" "$work/hello" >"$work/log/hello-$plugin.log" 2>&1; then
      echo "srun --mpi=$plugin: MPI initialises ($(tail -n 1 "$work/log/hello-$plugin.log"))"
    else
      echo "srun --mpi=$plugin: MPI_Init fails"
    fi
  done
  grep -q 'allreduce 2' "$work/log/hello-pmix.log" || fail "OpenMPI does not initialise under srun --mpi=pmix"
fi

# The states of a job's tasks (one for a plain job, one per task of an array), distinct, space-separated.
job_states() { scontrol -o show job "$1" | grep -o 'JobState=[A-Z_]*' | cut -d= -f2 | sort -u | tr '\n' ' '; }
# Polls a job until none of its tasks is pending or running (bounded: deadline); fails unless all
# completed with exit 0. (sbatch --wait would do, but it polls at 2, 10, 42 s: minutes for this check.)
wait_job() {
  local job=$1 states=
  while :; do
    states=$(job_states "$job")
    [ "$(date +%s)" -lt "$deadline" ] || break
    case " $states" in
      *" PENDING "* | *" CONFIGURING "* | *" RUNNING "* | *" COMPLETING "* | *" REQUEUED "* | *" SUSPENDED "*) sleep 0.1 ;;
      *) break ;;
    esac
  done
  [ "$states" = "COMPLETED " ] && return
  local exits; exits=$(scontrol -o show job "$job" | grep -o 'ExitCode=[0-9:]*' | sort -u | tr '\n' ' ')
  fail "job $job ended as '$states' (or ran past the check's ${CHECK_LIMIT:-240} s): $exits"
}
submit() { local job; job=$(sbatch --parsable --chdir="$work/out" "$@") || fail "sbatch $* refused the job"; echo "${job%%;*}"; }
# The last line of each log a job wrote (its --output= among the arguments, %a: every array task).
show_logs() {
  local pattern; pattern=$(printf '%s\n' "$@" | sed -n 's/^--output=//p' | sed 's/%a/*/')
  tail -q -n 1 $pattern | sed 's/^/  log: /'
}
# Runs one batch job to its end; fails unless it exits 0.
run_job() { wait_job "$(submit "$@")"; show_logs "$@"; }
capture_options=(--max-samples "$samples")
export HEADSCOPE=$headscope
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1  # this check runs its jobs as root

step "slurm-capture.sbatch: $ranks ranks through srun --mpi=pmix"
run_job --ntasks="$ranks" --output="$work/out/srun.log" "$examples/slurm-capture.sbatch" "$model" "$prompts" \
  "$work/out/srun.h5" "${capture_options[@]}"

step "slurm-capture.sbatch: $ranks ranks through mpirun inside the allocation"
LAUNCHER=mpirun run_job --ntasks="$ranks" --output="$work/out/mpirun.log" "$examples/slurm-capture.sbatch" "$model" \
  "$prompts" "$work/out/mpirun.h5" "${capture_options[@]}"

step "slurm-array.sbatch: $ranks array tasks, then slurm-merge.sbatch after them"
array_job=$(submit --array="0-$((ranks - 1))" --output="$work/out/array-%a.log" \
  "$examples/slurm-array.sbatch" "$model" "$prompts" "$work/out/array.h5" "${capture_options[@]}")
merge_job=$(submit --dependency="afterok:$array_job" --kill-on-invalid-dep=yes --output="$work/out/merge.log" \
  "$examples/slurm-merge.sbatch" "$work/out/array.h5" "$ranks")
wait_job "$array_job"
wait_job "$merge_job"
show_logs --output="$work/out/array-%a.log" --output="$work/out/merge.log"

# `headscope inspect` on a master: complete, every sample ("samples  12 (1835 tokens)"), every shard complete.
check_master() {
  local master=$1 report held shards_complete
  report=$("$headscope" inspect "$master") || fail "headscope inspect $master exits non-zero"
  held=$(awk '$1 == "samples" {print $2; exit}' <<<"$report")
  [ "$held" = "$samples" ] || fail "$master holds ${held:-no} samples, not $samples: $report"
  grep -q 'state *complete' <<<"$report" || fail "$master is not complete: $report"
  shards_complete=$(grep -c 'shard-[0-9]*-of-[0-9]*\.h5 .*samples mapped, complete' <<<"$report" || true)
  [ "$shards_complete" = "$ranks" ] || fail "$master lists $shards_complete complete shards, not $ranks: $report"
  echo "$(basename "$master"): inspect ok: complete, $held samples, $shards_complete of $ranks shards complete"
}
# Every metric array of two masters equal value by value (h5diff reads through the virtual datasets).
check_equal() {
  local metric
  for metric in $(h5ls "$work/out/$1/metrics" | awk '{print $1}'); do
    (cd "$work/out" && h5diff "$1" "$2" "/metrics/$metric" "/metrics/$metric") >/dev/null ||
      fail "/metrics/$metric differs between $1 and $2"
  done
  echo "$1 == $2: every /metrics array equal"
}

step "the masters"
for master in srun mpirun array; do check_master "$work/out/$master.h5"; done
check_equal srun.h5 mpirun.h5
check_equal srun.h5 array.h5

step "a lost shard: inspect reports it, its task alone is rerun, the master is whole again"
lost=$work/out/array.shard-1-of-$ranks.h5
rm -f "$lost"
if report=$("$headscope" inspect "$work/out/array.h5" 2>&1); then missing_status=0; else missing_status=$?; fi
grep -q "$(basename "$lost") .*missing" <<<"$report" || fail "inspect does not report $(basename "$lost") missing: $report"
echo "inspect with shard 1 deleted (exit $missing_status):"; grep -E 'state|missing' <<<"$report" | sed 's/^/  /'
SHARDS=$ranks run_job --array=1 --output="$work/out/rerun-%a.log" "$examples/slurm-array.sbatch" "$model" "$prompts" \
  "$work/out/array.h5" "${capture_options[@]}"
check_master "$work/out/array.h5"
check_equal srun.h5 array.h5

step "a lost MPI shard: the capture job rerun with --resume"
rm -f "$work/out/srun.shard-$((ranks - 1))-of-$ranks.h5"
run_job --ntasks="$ranks" --output="$work/out/srun-resume.log" "$examples/slurm-capture.sbatch" "$model" "$prompts" \
  "$work/out/srun.h5" "${capture_options[@]}" --resume
check_master "$work/out/srun.h5"
check_equal srun.h5 mpirun.h5

step "done: every Slurm check passed in $(($(date +%s) - started)) s"
