// Push and specialization constants of shaders/add.comp: a broadcasting elementwise sum or product.
#ifndef VKATTN_KERNEL_ADD_H
#define VKATTN_KERNEL_ADD_H
#include "vkattn/kernels/interface.h"
VKATTN_NAMESPACE_BEGIN

// out[i0, i1, i2, i3] = a[sum ik * a_stride_k] (+ or *) b[sum ik * b_stride_k] (strides 0
// broadcast). PRODUCT: 0 sum (add), 1 product (mul).
VKATTN_PUSH_BEGIN(AddPush)
  VKATTN_U32(total) VKATTN_U32(d1) VKATTN_U32(d2) VKATTN_U32(d3)
  VKATTN_U32(a_stride0) VKATTN_U32(a_stride1) VKATTN_U32(a_stride2) VKATTN_U32(a_stride3)
  VKATTN_U32(b_stride0) VKATTN_U32(b_stride1) VKATTN_U32(b_stride2) VKATTN_U32(b_stride3)
VKATTN_PUSH_END(AddPush)
#define VKATTN_ADD_CONSTANTS(X) X(1, PRODUCT, 0)
VKATTN_CONSTANTS(AddConstants, VKATTN_ADD_CONSTANTS)

VKATTN_NAMESPACE_END
#endif
