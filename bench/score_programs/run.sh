#!/usr/bin/env bash
# Times the score-program benchmarks on the default Vulkan device, each pair in one run
# of this script: window 256 against causal at seq 8192, packed documents against the
# padded batch, and causal written from primitives against the causal_mask op.
#   bench/score_programs/run.sh BUILD_DIR [RUNS]
set -euo pipefail
build=${1:?usage: run.sh BUILD_DIR [RUNS]}
runs=${2:-3}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$build/bench/score_program_graphs" "$dir"
bench() { "$build/tools/vkattn" bench "$dir/$1.json" --runs "$runs" "${@:2}" | head -1; }
bench causal_8192
bench window256_8192
bench menu_causal_8192
bench packed_documents_8192 --input "documents=$dir/documents.npy"
bench padded_documents --input "lengths=$dir/lengths.npy"
