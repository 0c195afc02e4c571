#!/usr/bin/env bash
# The sanitizer run of issue 15 (docs/reliability.md): the unit suite against libraries built with
# AddressSanitizer and UBSan, then every libFuzzer target (fuzz/) for a number of executions each, from its
# seed corpus. Long: run it by hand or nightly, not in CI. Prints the figures it measured.
# Usage: scripts/sanitize.sh [RUNS_PER_FUZZER]   (default 1000000; HEADSCOPE_FUZZ_JOBS=N runs N at once)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-1000000}
jobs=${HEADSCOPE_FUZZ_JOBS:-1}
"$root/scripts/install-deps.sh"
"$root/scripts/install-fuzz-deps.sh"
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# One clang build (torch and the GUI off: the libraries every parser lives in) with every HeadScope library
# compiled with ASan + UBSan (fuzz/CMakeLists.txt), its fuzzers and its unit tests, which link those libraries.
fuzz="$root/build-fuzz"
CC=clang CXX=clang++ cmake -S "$root" -B "$fuzz" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHEADSCOPE_FUZZ=ON \
  -DHEADSCOPE_WITH_TORCH=OFF -DHEADSCOPE_WITH_GUI=OFF -DHEADSCOPE_BUILD_TESTS=ON "${launcher[@]}" >/dev/null
cmake --build "$fuzz" -j"$(nproc)"
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$root/fuzz/lsan.supp}

# 1. The unit suite against the sanitized libraries.
started=$(date +%s)
ctest --test-dir "$fuzz" --output-on-failure -L unit -j"$(nproc)"
echo "sanitize: unit suite on ASan+UBSan libraries passed in $(( $(date +%s) - started )) s"

# 2. Every fuzzer for $runs executions from its seed corpus (fuzz/corpus/NAME), with a dictionary if any.
run_fuzzer() {
  local target=$1 name=${1#fuzz_}
  local corpus="$fuzz/corpus-$name" seeds="$root/fuzz/corpus/$name" log="$fuzz/$1.log"
  mkdir -p "$corpus"
  local dict=()
  [ -f "$root/fuzz/$name.dict" ] && dict=(-dict="$root/fuzz/$name.dict")
  local started=$(date +%s)
  (cd "$fuzz" && "$fuzz/fuzz/$target" -runs="$runs" -timeout=10 -rss_limit_mb=4096 -max_len=65536 "${dict[@]}" \
     "$corpus" "$seeds" >"$log" 2>&1) || { echo "sanitize: $target FAILED (see $log)"; tail -40 "$log"; return 1; }
  local done_line
  done_line=$(grep -E "^Done [0-9]+ runs" "$log" | tail -1)
  echo "sanitize: $target: ${done_line:-?} ($(( $(date +%s) - started )) s, corpus $(ls "$corpus" | wc -l) inputs)"
}
export -f run_fuzzer
export fuzz root runs
status=0
ls "$fuzz/fuzz" | grep -E '^fuzz_[a-z_]+$' | xargs -P "$jobs" -I{} bash -c 'run_fuzzer {}' || status=1
exit $status
