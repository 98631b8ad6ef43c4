// Push and specialization constants of shaders/elementwise.comp: scale or an activation of each element.
#ifndef VKATTN_KERNEL_ELEMENTWISE_H
#define VKATTN_KERNEL_ELEMENTWISE_H
#include "vkattn/kernels/encodings.h"
#include "vkattn/kernels/interface.h"
VKATTN_NAMESPACE_BEGIN

// OP: 0 scale by factor; otherwise a VKATTN_ACTIVATION_* code (encodings.h).
VKATTN_PUSH_BEGIN(ElementwisePush)
  VKATTN_U32(total) VKATTN_F32(factor)
VKATTN_PUSH_END(ElementwisePush)
#define VKATTN_ELEMENTWISE_CONSTANTS(X) X(1, OP, 0)
VKATTN_CONSTANTS(ElementwiseConstants, VKATTN_ELEMENTWISE_CONSTANTS)

VKATTN_NAMESPACE_END
#endif
