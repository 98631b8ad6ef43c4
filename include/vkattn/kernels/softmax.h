// Push and specialization constants of shaders/softmax.comp: softmax over the last axis.
#ifndef VKATTN_KERNEL_SOFTMAX_H
#define VKATTN_KERNEL_SOFTMAX_H
#include "vkattn/kernels/interface.h"
VKATTN_NAMESPACE_BEGIN

VKATTN_PUSH_BEGIN(SoftmaxPush)
  VKATTN_U32(rows) VKATTN_U32(n)
VKATTN_PUSH_END(SoftmaxPush)

// WORKGROUP_PER_ROW as for LayerNorm (kernels/layer_norm.h).
#define VKATTN_SOFTMAX_CONSTANTS(X) X(1, WORKGROUP_PER_ROW, 0)
VKATTN_CONSTANTS(SoftmaxConstants, VKATTN_SOFTMAX_CONSTANTS)

VKATTN_NAMESPACE_END
#endif
