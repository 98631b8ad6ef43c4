#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets into fuzz/corpus/<target>/, and the
hand-made reproducers of known defects into fuzz/reproducers/<target>/.

usage: fuzz/make_seeds.py PATH/TO/vkattn

.npy and safetensors seeds are written byte by byte here (no NumPy needed); graph and
schedule JSON seeds are what the given vkattn command emits for small presets, compacted, so
they follow the current formats. The fuzz_safetensors seeds are state dicts for the graphs
that target binds (a decoder layer, packed in_proj tensors; grouped-query attention).
"""
import json
import os
import random
import struct
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
rng = random.Random(7)


def write(target, name, data, kind="corpus"):
    folder = os.path.join(HERE, kind, target)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


def count(shape):
    n = 1
    for d in shape:
        n *= d
    return n


def npy(descr, shape, values, version=1):
    dims = "".join(f"{d}," if len(shape) == 1 else f"{d}, " for d in shape).rstrip(", ")
    if len(shape) == 1:
        dims += ","
    text = f"{{'descr': '{descr}', 'fortran_order': False, 'shape': ({dims}), }}"
    prefix = 10 if version == 1 else 12
    pad = (64 - (prefix + len(text) + 1) % 64) % 64
    text = (text + " " * pad + "\n").encode()
    length = struct.pack("<H", len(text)) if version == 1 else struct.pack("<I", len(text))
    packing = {"<f2": "e", "<f4": "f", "<f8": "d", "<i4": "i", "<i8": "q"}[descr]
    return b"\x93NUMPY" + bytes([version, 0]) + length + text + struct.pack("<" + packing * len(values), *values)


def safetensors(tensors):
    header, data = {}, b""
    for name, (dtype, shape, values) in tensors.items():
        packing = {"F32": "f", "F16": "e", "I32": "i", "F64": "d", "I64": "q"}[dtype]
        raw = struct.pack("<" + packing * len(values), *values)
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    header["__metadata__"] = {"format": "pt"}
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + data


def floats(n):
    return [round(rng.uniform(-1, 1), 3) for _ in range(n)]


def weights_of(vkattn, preset_args):
    graph = json.loads(subprocess.check_output([vkattn, "compile", *preset_args, "--emit", "graph"]))
    return [(v["name"], v["shape"]) for v in graph["values"] if v["op"] == "weight"]


def state_dict(weights, packed):
    """Weights by their graph names; with packed, q/k/v projections as PyTorch's in_proj."""
    tensors, groups = {}, {}
    for name, shape in weights:
        for part in ("q_proj", "k_proj", "v_proj"):
            marker = f".{part}."
            if packed and marker in name:
                prefix, kind = name.split(marker)
                groups.setdefault((prefix, kind), []).append((part, shape))
                break
        else:
            tensors[name] = ("F32", shape, floats(count(shape)))
    for (prefix, kind), parts in groups.items():
        rows = sum(shape[0] for _, shape in parts)
        shape = [rows] + parts[0][1][1:]
        tensors[f"{prefix}.in_proj_{kind}"] = ("F32", shape, floats(count(shape)))
    return tensors


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    vkattn = sys.argv[1]

    write("npy", "f32_2x3.npy", npy("<f4", [2, 3], floats(6)))
    write("npy", "f16_5.npy", npy("<f2", [5], floats(5)))
    write("npy", "f64_scalar.npy", npy("<f8", [], [1.5]))
    write("npy", "i32_4.npy", npy("<i4", [4], [1, -2, 3, 4]))
    write("npy", "i64_2x2_v2.npy", npy("<i8", [2, 2], [1, 2, 3, 4], version=2))
    write("npy", "f32_1x2x3x4.npy", npy("<f4", [1, 2, 3, 4], floats(24)))

    decoder = ["decoder_layer", "--seq", "3", "--kv-seq", "5", "--model", "8", "--heads", "2", "--ffn", "12"]
    gqa = ["gqa", "--seq", "3", "--model", "8", "--heads", "4", "--kv-heads", "2"]
    write("safetensors", "decoder_packed.safetensors", safetensors(state_dict(weights_of(vkattn, decoder), True)))
    write("safetensors", "decoder_by_name.safetensors", safetensors(state_dict(weights_of(vkattn, decoder), False)))
    write("safetensors", "gqa.safetensors", safetensors(state_dict(weights_of(vkattn, gqa), False)))
    write("safetensors", "mixed_dtypes.safetensors",
          safetensors({"a": ("F16", [2, 2], floats(4)), "b": ("I32", [3], [1, 2, 3]), "c": ("F64", [1], [2.0]),
                       "d": ("I64", [2], [5, 6])}))

    presets = {
        "mha": ["mha", "--seq", "5", "--model", "8", "--heads", "2", "--mask", "causal"],
        "gqa": gqa + ["--mask", "padding"],
        "cross": ["cross_attention", "--seq", "3", "--kv-seq", "7", "--model", "8", "--heads", "2"],
        "encoder_prenorm": ["encoder_layer", "--seq", "4", "--model", "8", "--heads", "2", "--norm-first",
                            "--activation", "gelu", "--ffn", "12"],
        "decoder": decoder + ["--mask", "padding"],
        "llama": ["llama_block", "--seq", "5", "--model", "16", "--heads", "4", "--kv-heads", "2", "--ffn", "12",
                  "--rope-theta", "500"],
        # Decoding: a dynamic length, KV caches (state tensors), RoPE at the cache positions.
        "llama_cache": ["llama_block", "--model", "16", "--heads", "4", "--kv-heads", "2", "--ffn", "12",
                        "--cache", "9"],
        # A repeated body: three layers compiled once, caches per layer.
        "llama_layers": ["llama_block", "--model", "16", "--heads", "4", "--kv-heads", "2", "--ffn", "12",
                         "--cache", "9", "--layers", "3"],
    }
    def emit(args):
        return json.loads(subprocess.check_output([vkattn, "compile", *args]))

    def compact(document):
        return json.dumps(document, separators=(",", ":")).encode()

    for name, args in presets.items():
        write("graph_json", f"{name}.json", compact(emit(args + ["--emit", "graph"])))
        for target in ("generic", "nvidia", "llvmpipe"):
            write("schedule_json", f"{name}_{target}.json", compact(emit(args + ["--target", target, "--emit", "json"])))
    modern = {"format": "vkattn.graph", "version": 1, "name": "modern", "values": [
        {"op": "input", "name": "x", "dtype": "f32", "shape": [1, 5, 8]},
        {"op": "weight", "name": "norm.weight", "dtype": "f32", "shape": [8]},
        {"op": "rms_norm", "name": "normed", "inputs": [0, 1], "epsilon": 1e-6},
        {"op": "silu", "name": "gate", "inputs": [2]},
        {"op": "gelu_tanh", "name": "up", "inputs": [0]},
        {"op": "mul", "name": "product", "inputs": [3, 4]},
        {"op": "output", "name": "y", "inputs": [5]}]}
    for value in modern["values"][2:]:
        value["dtype"], value["shape"] = "f32", [1, 5, 8]
    write("graph_json", "rms_norm_silu_mul.json", compact(modern))
    scores = [1, 2, 3, 3]
    modifiers = {"format": "vkattn.graph", "version": 1, "name": "modifiers", "values": [
        {"op": "input", "name": "scores", "dtype": "f32", "shape": scores},
        {"op": "input", "name": "slopes", "dtype": "f32", "shape": [2]},
        {"op": "weight", "name": "sinks", "dtype": "f32", "shape": [2]},
        {"op": "weight", "name": "gamma", "dtype": "f32", "shape": [3]},
        {"op": "tanh", "name": "capped", "inputs": [0]},
        {"op": "alibi", "name": "biased", "inputs": [4, 1], "align": "bottom_right"},
        {"op": "softmax_with_sinks", "name": "probs", "inputs": [5, 2]},
        {"op": "layer_norm_no_bias", "name": "normed", "inputs": [6, 3], "epsilon": 1e-5},
        {"op": "rotary_embedding", "name": "turned", "inputs": [7], "dims": 2, "theta": 100.0,
         "layout": "interleaved", "offset": 4},
        {"op": "output", "name": "y", "inputs": [8]}]}
    for value in modifiers["values"][4:]:
        value["dtype"], value["shape"] = "f32", scores
    write("graph_json", "modifiers.json", compact(modifiers))
    write("schedule_json", "mha_unfused.json", compact(emit(presets["mha"] + ["--unfused", "--emit", "json"])))

    # Reproducers: each input once crashed vkattn, corrupted memory or was accepted wrongly.
    schedule = emit(presets["mha"] + ["--emit", "json"])
    graph = emit(presets["mha"] + ["--emit", "graph"])

    def changed(document, change):
        document = json.loads(json.dumps(document))
        change(document)
        return compact(document)

    def slot_offset(d):  # a slot beyond the arena: a host out-of-bounds write
        d["slots"][0]["offset"] = 1 << 40
    def output_shape(d):  # an output larger than its slot: an out-of-bounds read
        out = next(s for s in d["slots"] if s.get("role") == "output")
        out["shape"] = [64, 64, 64]
    def no_binding_0(d):  # a dispatch without binding 0: the listing indexed slots[-1]
        del d["dispatches"][0]["bindings"][0]
    write("schedule_json", "slot_offset_beyond_arena.json", changed(schedule, slot_offset), "reproducers")
    write("schedule_json", "output_larger_than_slot.json", changed(schedule, output_shape), "reproducers")
    write("schedule_json", "dispatch_without_binding_0.json", changed(schedule, no_binding_0), "reproducers")
    def unknown_mask_kind(d):  # not one mask bit: mask.comp would read a mask that is not bound
        mask = next(x for x in d["dispatches"] if x["shader"] == "mask")
        mask["specialization"][1] = 32
    write("schedule_json", "unknown_mask_kind.json",
          changed(emit(presets["mha"] + ["--unfused", "--emit", "json"]), unknown_mask_kind), "reproducers")
    write("schedule_json", "number_out_of_range.json",
          compact(schedule).replace(b'"version":2', b'"version":1e999', 1), "reproducers")
    write("schedule_json", "float_count.json",
          compact(schedule).replace(b'"workgroups":[', b'"workgroups":[1.5e300,', 1), "reproducers")
    write("graph_json", "number_out_of_range.json", compact(graph).replace(b'"shape":[', b'"shape":[1e999,', 1),
          "reproducers")
    def huge_shape(d):
        d["values"][0]["shape"] = [1 << 30, 1 << 30, 1 << 30]
    def wide_id(d):
        d["values"][-1]["inputs"] = [1 << 32]
    write("graph_json", "shape_product_beyond_2_40.json", changed(graph, huge_shape), "reproducers")
    write("graph_json", "value_id_beyond_int32.json", changed(graph, wide_id), "reproducers")
    write("safetensors", "shape_product_wraps.safetensors",
          safetensors({"w": ("F32", [1 << 40, 1 << 40], [])}), "reproducers")
    write("safetensors", "number_out_of_range.safetensors",
          safetensors({"w": ("F32", [2], [1.0, 2.0])}).replace(b'"shape": [2]', b'"shape": [1e999]'), "reproducers")
    packed = state_dict(weights_of(vkattn, decoder), True)
    dtype, shape, values = packed["self_attn.in_proj_weight"]
    packed["self_attn.in_proj_weight"] = ("I32", shape, [int(v * 100) for v in values])
    write("safetensors", "i32_in_proj_weight.safetensors", safetensors(packed), "reproducers")
    write("npy", "shape_product_overflows.npy",
          npy("<f4", [2], [1.0, 2.0]).replace(b"(2,)", b"(4294967296, 4294967296, 4294967296,)"), "reproducers")


if __name__ == "__main__":
    main()
