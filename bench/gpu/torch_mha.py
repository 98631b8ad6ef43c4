#!/usr/bin/env python3
"""Times PyTorch on the same shapes as `vkattn bench mha`: multi-head attention with its
projections (x·Wqkvᵀ+b, scaled_dot_product_attention, out projection), on CUDA, in the
dtype asked for. Prints one JSON object per shape on stdout.

usage: torch_mha.py --dtype f32|f16 --shapes "B,S,MODEL,HEADS;..." [--runs N] [--causal]
"""
import argparse
import json
import sys


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dtype", choices=["f32", "f16"], default="f32")
    parser.add_argument("--shapes", required=True, help='"B,S,MODEL,HEADS;..."')
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--causal", action="store_true")
    args = parser.parse_args()
    try:
        import torch
        import torch.nn.functional as F
    except ImportError as e:
        sys.exit(f"torch_mha.py: PyTorch is not installed ({e})")
    if not torch.cuda.is_available():
        sys.exit("torch_mha.py: no CUDA device")
    dtype = torch.float32 if args.dtype == "f32" else torch.float16
    # fp32 stays fp32: no TF32 on the matrix units, as vkattn's f32 kernels do not use them.
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    device = torch.device("cuda")
    for spec in args.shapes.split(";"):
        batch, seq, model, heads = (int(v) for v in spec.split(","))
        head_dim = model // heads
        x = torch.randn(batch, seq, model, device=device, dtype=dtype)
        w_in = torch.randn(3 * model, model, device=device, dtype=dtype) * model ** -0.5
        b_in = torch.zeros(3 * model, device=device, dtype=dtype)
        w_out = torch.randn(model, model, device=device, dtype=dtype) * model ** -0.5
        b_out = torch.zeros(model, device=device, dtype=dtype)

        def layer():
            qkv = F.linear(x, w_in, b_in).view(batch, seq, 3, heads, head_dim).permute(2, 0, 3, 1, 4)
            o = F.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2], is_causal=args.causal)
            return F.linear(o.transpose(1, 2).reshape(batch, seq, model), w_out, b_out)

        def attention_only(q, k, v):
            return F.scaled_dot_product_attention(q, k, v, is_causal=args.causal)

        q = torch.randn(batch, heads, seq, head_dim, device=device, dtype=dtype)
        k, v = torch.randn_like(q), torch.randn_like(q)
        results = {}
        for name, fn in (("layer", layer), ("attention", lambda: attention_only(q, k, v))):
            for _ in range(3):
                fn()
            torch.cuda.synchronize()
            times = []
            for _ in range(args.runs):
                start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                start.record()
                fn()
                end.record()
                torch.cuda.synchronize()
                times.append(start.elapsed_time(end))
            times.sort()
            results[name + "_ms"] = times[len(times) // 2]
        print(json.dumps({"batch": batch, "seq": seq, "model": model, "heads": heads, "dtype": args.dtype,
                          "causal": args.causal, "device": torch.cuda.get_device_name(0),
                          "torch": torch.__version__, **results}), flush=True)


if __name__ == "__main__":
    main()
