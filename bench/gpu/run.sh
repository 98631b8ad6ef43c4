#!/usr/bin/env bash
# The GPU benchmark: `vkattn bench mha` over the standard shapes (model 512 with 8 heads,
# model 4096 with 32 heads of 128; seq 1024 to 16384; batch 1 and 8) and PyTorch's
# multi-head attention with its projections on the same card, same shapes, in f32 and
# in f16 (vkattn's --f16 graphs against PyTorch's f16 SDPA); then one table per dtype. Run from the directory that holds the vkattn binary:
#
#   bench/gpu/run.sh VKATTN OUT_DIR [--quick]
#
# VKATTN is the vkattn binary; OUT_DIR receives devices.txt, and per dtype D (f32, f16)
# one vkattn JSON per shape in vkattn_D/, torch_D.jsonl and table_D.md. --quick runs seq 1024 and 4096 only. Needs a Vulkan loader
# and driver (`vkattn devices` must list the GPU) and python3 with PyTorch on CUDA.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
vkattn=${1:?usage: run.sh VKATTN OUT_DIR [--quick]}
out=${2:?usage: run.sh VKATTN OUT_DIR [--quick]}
seqs="1024 2048 4096 8192 16384"
[ "${3:-}" = --quick ] && seqs="1024 4096"
mkdir -p "$out"
"$vkattn" devices > "$out/devices.txt"
for dtype in f32 f16; do
  flag=""
  [ "$dtype" = f16 ] && flag="--f16"
  mkdir -p "$out/vkattn_$dtype"
  shapes=""
  for model_heads in "512 8" "4096 32"; do
    set -- $model_heads
    model=$1 heads=$2
    for batch in 1 8; do
      for seq in $seqs; do
        # Batch 8 at model 4096 stops at seq 8192 to keep the run within its time budget.
        if [ "$model" = 4096 ] && [ "$batch" = 8 ] && [ "$seq" -gt 8192 ]; then continue; fi
        shapes="$shapes;$batch,$seq,$model,$heads"
        file="$out/vkattn_$dtype/mha_${batch}_${seq}_${model}_${heads}.json"
        "$vkattn" bench mha --batch "$batch" --seq "$seq" --model "$model" --heads "$heads" $flag --runs 5 --json \
          > "$file" 2> "$file.log" || echo "vkattn bench failed for $dtype $batch,$seq,$model,$heads (see $file.log)" >&2
      done
    done
  done
  python3 "$here/torch_mha.py" --dtype "$dtype" --shapes "${shapes#;}" > "$out/torch_$dtype.jsonl"
  echo "## $dtype" | tee "$out/table_$dtype.md"
  python3 "$here/table.py" "$out/vkattn_$dtype" "$out/torch_$dtype.jsonl" | tee -a "$out/table_$dtype.md"
done
