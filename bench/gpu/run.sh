#!/usr/bin/env bash
# The GPU benchmark: `vkattn bench mha` over the standard shapes (model 512 with 8 heads,
# model 4096 with 32 heads of 128; seq 1024 to 16384; batch 1 and 8) and PyTorch's
# multi-head attention with its projections on the same card, same shapes, f32; then
# one table with the ratios. Run from the directory that holds the vkattn binary:
#
#   bench/gpu/run.sh VKATTN OUT_DIR [--quick]
#
# VKATTN is the vkattn binary; OUT_DIR receives devices.txt, one vkattn JSON per shape,
# torch.jsonl and table.md. --quick runs seq 1024 and 4096 only. Needs a Vulkan loader
# and driver (`vkattn devices` must list the GPU) and python3 with PyTorch on CUDA.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
vkattn=${1:?usage: run.sh VKATTN OUT_DIR [--quick]}
out=${2:?usage: run.sh VKATTN OUT_DIR [--quick]}
seqs="1024 2048 4096 8192 16384"
[ "${3:-}" = --quick ] && seqs="1024 4096"
mkdir -p "$out/vkattn"
"$vkattn" devices > "$out/devices.txt"
shapes=""
for model_heads in "512 8" "4096 32"; do
  set -- $model_heads
  model=$1 heads=$2
  for batch in 1 8; do
    for seq in $seqs; do
      # Skip what would not fit a sensible time budget: batch 8 at model 4096 beyond 8192.
      if [ "$model" = 4096 ] && [ "$batch" = 8 ] && [ "$seq" -gt 8192 ]; then continue; fi
      shapes="$shapes;$batch,$seq,$model,$heads"
      file="$out/vkattn/mha_${batch}_${seq}_${model}_${heads}.json"
      "$vkattn" bench mha --batch "$batch" --seq "$seq" --model "$model" --heads "$heads" --runs 5 --json \
        > "$file" 2> "$file.log" || echo "vkattn bench failed for $batch,$seq,$model,$heads (see $file.log)" >&2
    done
  done
done
python3 "$here/torch_mha.py" --dtype f32 --shapes "${shapes#;}" > "$out/torch.jsonl"
python3 "$here/table.py" "$out/vkattn" "$out/torch.jsonl" | tee "$out/table.md"
