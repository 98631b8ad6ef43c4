#pragma once
// vkattn: an attention-graph compiler with a Vulkan backend. This header brings in the
// DSL (graph, primitive ops, composite layers) and compile-time graph freezing.
#include "vkattn/freeze.hpp"
#include "vkattn/graph.hpp"
#include "vkattn/layers.hpp"
#include "vkattn/ops.hpp"
