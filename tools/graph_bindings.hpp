#pragma once
// The tensors a run binds: weights from --weights FILE.safetensors (a PyTorch state
// dict) or random, inputs from --input NAME=FILE.npy or random, both from --seed.
#include <iosfwd>

#include <vkattn/graph.hpp>
#include <vkattn/tensor.hpp>

#include "cli_options.hpp"

namespace vkattn::cli {

// The flags it reads.
inline const std::vector<std::string> binding_flags{"--weights", "--weights-prefix", "--input", "--seed"};
inline constexpr const char* binding_help =
    "  --weights FILE.safetensors   weights by name, PyTorch state-dict names accepted; also a\n"
    "                               sharded checkpoint's model.safetensors.index.json, or the\n"
    "                               folder holding it (Hugging Face's layout); a model folder\n"
    "                               as GRAPH binds its own checkpoint unless this names another\n"
    "                               (in_proj_weight/in_proj_bias split into q, k, v; docs/weights.md)\n"
    "  --weights-prefix P           put P before every name of the file (self_attn. for a bare\n"
    "                               nn.MultiheadAttention state dict and the mha preset)\n"
    "  --input NAME=FILE.npy        an input (repeatable); others are random\n"
    "  --seed N                     seed of the random weights and inputs (1)\n";

// Every input and weight of `graph`. Says on `notes` which tensors were random and
// which file tensors bound nothing.
// An --input file may give a dynamic dimension any size from 1 to its bound.
TensorMap graph_bindings(const Graph& graph, const Arguments& args, std::ostream& notes);
// The weights alone: from --weights, GRAPH's checkpoint when it is a model folder, or random.
TensorMap graph_weights(const Graph& graph, const Arguments& args, std::ostream& notes);

}  // namespace vkattn::cli
