// Push and specialization constants of shaders/mask.comp: one mask of the unfused attention path applied to scores.
#ifndef VKATTN_KERNEL_MASK_H
#define VKATTN_KERNEL_MASK_H
#include "vkattn/kernels/encodings.h"
#include "vkattn/kernels/interface.h"
VKATTN_NAMESPACE_BEGIN

// KIND: the mask's VKATTN_MASK_* bit (encodings.h).
VKATTN_PUSH_BEGIN(MaskPush)
  VKATTN_U32(total) VKATTN_U32(queries) VKATTN_U32(keys) VKATTN_U32(per_batch) VKATTN_U32(window)
  VKATTN_U32(bottom_right) VKATTN_U32(d1) VKATTN_U32(d2)
  VKATTN_U32(m_stride0) VKATTN_U32(m_stride1) VKATTN_U32(m_stride2) VKATTN_U32(m_stride3)
VKATTN_PUSH_END(MaskPush)
#define VKATTN_MASK_CONSTANTS(X) X(1, KIND, 0)
VKATTN_CONSTANTS(MaskConstants, VKATTN_MASK_CONSTANTS)

VKATTN_NAMESPACE_END
#endif
