#pragma once
// vkattn: an attention-graph compiler with a Vulkan backend. This header brings in the
// DSL (graph, primitive ops, composite layers), compile-time graph freezing and the
// compiler (vkattn::compile, at run time or while the C++ compiles).
#include "vkattn/compile.hpp"
#include "vkattn/freeze.hpp"
#include "vkattn/graph.hpp"
#include "vkattn/layers.hpp"
#include "vkattn/ops.hpp"
#include "vkattn/pointwise_ops.hpp"
#include "vkattn/score_mods.hpp"
#include "vkattn/unroll_repeats.hpp"
