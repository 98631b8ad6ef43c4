#pragma once
// vkattn decode --input: a decoding run over sequences read from files, its outputs
// written to files and checked against one causal pass of the CPU reference.
#include <vkattn/decoder.hpp>

#include "cli_options.hpp"

namespace vkattn::cli {

// Prefills each sequence with the first --prompt positions of the --input files, steps
// through the rest --step-tokens at a time, joins each output's runs along its
// sequence axis, writes --output files and, with --check, compares with the reference
// of the whole sequence in one run from empty caches. Returns the exit code.
int decode_files(const Arguments& args, const Graph& graph, Decoder& decoder, const TensorMap& weights,
                 const CompileOptions& options);

}  // namespace vkattn::cli
