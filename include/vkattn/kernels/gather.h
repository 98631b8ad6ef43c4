// Push and specialization constants of shaders/gather.comp: a strided copy (head split and merge, permute, slice).
#ifndef VKATTN_KERNEL_GATHER_H
#define VKATTN_KERNEL_GATHER_H
#include "vkattn/kernels/interface.h"
VKATTN_NAMESPACE_BEGIN

// out (contiguous) = in[offset + sum index_k * strides_k] over `rank` dimensions.
// table_axis > 0: index_k of that axis is table[index_0 * table_row + index_k] (binding
// 2, i32), an entry outside [0, table_bound) reading as zero: a paged KV cache's view.
VKATTN_PUSH_BEGIN(GatherPush)
  VKATTN_U32(total) VKATTN_U32(rank)
  VKATTN_U32_ARRAY(dims, 6)
  VKATTN_U32_ARRAY(strides, 6)
  VKATTN_U32(offset)
  VKATTN_U32(table_axis) VKATTN_U32(table_row) VKATTN_U32(table_bound)
VKATTN_PUSH_END(GatherPush)
#define VKATTN_GATHER_CONSTANTS(X)
VKATTN_CONSTANTS(GatherConstants, VKATTN_GATHER_CONSTANTS)

VKATTN_NAMESPACE_END
#endif
