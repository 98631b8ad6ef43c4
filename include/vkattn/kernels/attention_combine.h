// Push and specialization constants of shaders/attention_combine.comp, which merges the
// partial results of flash attention's split-over-keys form.
#ifndef VKATTN_KERNEL_ATTENTION_COMBINE_H
#define VKATTN_KERNEL_ATTENTION_COMBINE_H
#include "vkattn/kernels/interface.h"
VKATTN_NAMESPACE_BEGIN

// Merging the splits: rows = batch * heads * sq partial rows, each split's partials
// at split * rows * (value_dim + 2) floats (the unnormalised output, then max, sum).
VKATTN_PUSH_BEGIN(CombinePush)
  VKATTN_U32(rows) VKATTN_U32(splits) VKATTN_U32(value_dim) VKATTN_U32(heads) VKATTN_U32(sq)
  VKATTN_U32(o_offset) VKATTN_U32(o_batch) VKATTN_U32(o_head) VKATTN_U32(o_row)
VKATTN_PUSH_END(CombinePush)
#define VKATTN_COMBINE_CONSTANTS(X)
VKATTN_CONSTANTS(CombineConstants, VKATTN_COMBINE_CONSTANTS)

VKATTN_NAMESPACE_END
#endif
