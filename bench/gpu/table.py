#!/usr/bin/env python3
"""Joins `vkattn bench --json` results (one file per shape) with torch_mha.py's lines into
one Markdown table: whole layer and attention alone, vkattn vs PyTorch on the same card.

usage: table.py VKATTN_DIR TORCH.jsonl
"""
import json
import pathlib
import sys


def flops(batch, seq, model):
    # Projections (QKV and out: 8·B·S·D²) and attention (4·B·S²·D), no mask.
    return 8 * batch * seq * model * model + 4 * batch * seq * seq * model


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    vk_dir, torch_file = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    torch = {}
    for line in torch_file.read_text().splitlines():
        if line.strip():
            r = json.loads(line)
            torch[(r["batch"], r["seq"], r["model"], r["heads"])] = r
    print("| batch | seq | model | heads | vkattn layer ms | PyTorch layer ms | time vs PyTorch | vkattn attention ms "
          "| PyTorch SDPA ms | time vs PyTorch | vkattn TFLOP/s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for f in sorted(vk_dir.glob("*.json"), key=lambda p: [int(t) if t.isdigit() else t for t in p.stem.split("_")]):
        r = json.loads(f.read_text())
        key = tuple(int(t) for t in f.stem.split("_")[1:5])
        attention = sum(d["ms_median"] for d in r["dispatches"] if d["kernel"] in ("flash_attention", "attention_combine"))
        t = torch.get(key)
        layer_ms = r["ms_median"]
        tf = flops(key[0], key[1], key[2]) / (layer_ms * 1e-3) / 1e12
        if t is None:
            print(f"| {key[0]} | {key[1]} | {key[2]} | {key[3]} | {layer_ms:.3f} | - | - | {attention:.3f} | - | - | {tf:.1f} |")
            continue
        print(f"| {key[0]} | {key[1]} | {key[2]} | {key[3]} | {layer_ms:.3f} | {t['layer_ms']:.3f} | "
              f"{layer_ms / t['layer_ms']:.2f}x | {attention:.3f} | {t['attention_ms']:.3f} | "
              f"{attention / t['attention_ms']:.2f}x | {tf:.1f} |")


if __name__ == "__main__":
    main()
