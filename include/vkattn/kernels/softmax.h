// Push and specialization constants of shaders/softmax.comp: softmax over the last axis.
#ifndef VKATTN_KERNEL_SOFTMAX_H
#define VKATTN_KERNEL_SOFTMAX_H
#include "vkattn/kernels/interface.h"
VKATTN_NAMESPACE_BEGIN

// queries and heads place a row's head for the sinks: h = (row / queries) % heads.
VKATTN_PUSH_BEGIN(SoftmaxPush)
  VKATTN_U32(rows) VKATTN_U32(n) VKATTN_U32(queries) VKATTN_U32(heads)
VKATTN_PUSH_END(SoftmaxPush)

// WORKGROUP_PER_ROW as for LayerNorm (kernels/layer_norm.h). SINKS: 1 adds the sink
// logits of binding 2 to each row's softmax (softmax_with_sinks).
#define VKATTN_SOFTMAX_CONSTANTS(X) X(1, WORKGROUP_PER_ROW, 0) X(2, SINKS, 0)
VKATTN_CONSTANTS(SoftmaxConstants, VKATTN_SOFTMAX_CONSTANTS)

VKATTN_NAMESPACE_END
#endif
