#!/usr/bin/env bash
# Fuzzes every target of a build configured with -DVKATTN_FUZZ=ON for SECONDS each,
# two at a time, starting from a copy of the seed corpus (the repository's corpus is
# not changed). An input that escapes a target is saved under BUILD/fuzz-findings/<target>/
# and the run fails; copy it into fuzz/reproducers/<target>/ with the fix, so that the
# replay test keeps it fixed.
#
# usage: fuzz/run_fuzzers.sh BUILD_DIR [SECONDS (60)] [TARGET...]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="${1:?usage: fuzz/run_fuzzers.sh BUILD_DIR [SECONDS] [TARGET...]}"
seconds="${2:-60}"
shift $(( $# >= 2 ? 2 : 1 ))
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then targets=(npy safetensors graph_json schedule_json checkpoint_index); fi

work="$build/fuzz-work"
findings="$build/fuzz-findings"
rm -rf "$work" && mkdir -p "$work" "$findings"

fuzz_one() {
  local target="$1" binary="$build/fuzz/fuzz_$1"
  if [ ! -x "$binary" ]; then
    echo "fuzz: $binary is missing; configure with -DCMAKE_CXX_COMPILER=clang++ -DVKATTN_FUZZ=ON" >&2
    return 1
  fi
  mkdir -p "$work/$target/corpus" "$findings/$target"
  cp "$here/corpus/$target"/* "$work/$target/corpus/"
  # -rss_limit_mb: a parser must not allocate gigabytes for a small file.
  if "$binary" "$work/$target/corpus" "$here/reproducers/$target" -max_total_time="$seconds" \
       -rss_limit_mb=2048 -max_len=65536 -timeout=10 -print_final_stats=1 \
       -artifact_prefix="$findings/$target/" > "$work/$target.log" 2>&1; then
    echo "fuzz $target: $(grep -o 'stat::number_of_executed_units: *[0-9]*' "$work/$target.log" | grep -o '[0-9]*$') inputs in ${seconds}s, nothing escaped"
  else
    echo "fuzz $target: FAILED; the input is in $findings/$target/, the log follows" >&2
    tail -n 60 "$work/$target.log" >&2
    return 1
  fi
}

status=0
pids=()
for target in "${targets[@]}"; do
  fuzz_one "$target" & pids+=($!)
  if [ ${#pids[@]} -eq 2 ]; then
    for pid in "${pids[@]}"; do wait "$pid" || status=1; done
    pids=()
  fi
done
for pid in "${pids[@]}"; do wait "$pid" || status=1; done
exit $status
