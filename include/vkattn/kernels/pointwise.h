// Push and specialization constants of shaders/pointwise.comp: one element of a
// generated expression per invocation (codegen/render.hpp's render_pointwise).
#ifndef VKATTN_KERNEL_POINTWISE_H
#define VKATTN_KERNEL_POINTWISE_H
#include "vkattn/kernels/encodings.h"
#include "vkattn/kernels/interface.h"
VKATTN_NAMESPACE_BEGIN

// dims: the result's sizes, aligned from the back (1 in front); score_q, score_k: the
// (Sq, Sk) of the scores the index values index; extents: sizes of gathered axes that
// are dynamic (ExprExtent::Kind::push).
VKATTN_PUSH_BEGIN(PointwisePush)
  VKATTN_U32(total)
  VKATTN_U32_ARRAY(dims, 4)
  VKATTN_U32(score_q) VKATTN_U32(score_k)
  VKATTN_U32_ARRAY(extents, 4)
VKATTN_PUSH_END(PointwisePush)
#define VKATTN_POINTWISE_CONSTANTS(X)
VKATTN_CONSTANTS(PointwiseConstants, VKATTN_POINTWISE_CONSTANTS)

VKATTN_NAMESPACE_END
#endif
