// Push and specialization constants of shaders/layer_norm.comp: LayerNorm or RMSNorm over
// the last axis, with an optional residual added first.
#ifndef VKATTN_KERNEL_LAYER_NORM_H
#define VKATTN_KERNEL_LAYER_NORM_H
#include "vkattn/kernels/interface.h"
VKATTN_NAMESPACE_BEGIN

VKATTN_PUSH_BEGIN(LayerNormPush)
  VKATTN_U32(rows) VKATTN_U32(n) VKATTN_F32(epsilon)
VKATTN_PUSH_END(LayerNormPush)

// WORKGROUP_PER_ROW: 1, the invocations of a workgroup share one row and reduce
// together through subgroup operations and shared memory; 0, each invocation owns a row.
// RMS: 1, RMSNorm (no mean, no beta; binding 3 unused); 0, LayerNorm.
// HAS_BETA: LayerNorm adds beta (binding 3); 0 for LayerNorm without a bias.
#define VKATTN_LAYER_NORM_CONSTANTS(X) X(1, WORKGROUP_PER_ROW, 0) X(2, HAS_RESIDUAL, 0) X(3, RMS, 0) X(4, HAS_BETA, 1)
VKATTN_CONSTANTS(LayerNormConstants, VKATTN_LAYER_NORM_CONSTANTS)

VKATTN_NAMESPACE_END
#endif
