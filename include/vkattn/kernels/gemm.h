// Push and specialization constants of the GEMM kernels: shaders/gemm_texel.comp
// (register tiles read through texel buffers) and shaders/gemm_tiled.comp (workgroup
// tiles staged through shared memory).
#ifndef VKATTN_KERNEL_GEMM_H
#define VKATTN_KERNEL_GEMM_H
#include "vkattn/kernels/encodings.h"
#include "vkattn/kernels/interface.h"
VKATTN_NAMESPACE_BEGIN

VKATTN_PUSH_BEGIN(GemmPush)
  VKATTN_U32(M) VKATTN_U32(N) VKATTN_U32(K) VKATTN_U32(inner_count)
  VKATTN_U32(a_offset) VKATTN_U32(a_outer) VKATTN_U32(a_inner) VKATTN_U32(lda)
  VKATTN_U32(b_offset) VKATTN_U32(b_outer) VKATTN_U32(b_inner) VKATTN_U32(ldb)
  VKATTN_F32(alpha)
  VKATTN_U32_ARRAY(dims, 4)
VKATTN_PUSH_END(GemmPush)

// ACTIVATION: a VKATTN_ACTIVATION_* code (encodings.h; 0 is identity).
// GATED: 1, B (transposed, [2N, K]) holds a gate [0, N) and an up projection [N, 2N),
// the bias likewise [2N]; C = act(gate) * up: SwiGLU / GeGLU's first half in one GEMM.
// 2: the up projection first and the gate second. 0: not gated.
#define VKATTN_GEMM_EPILOGUE_CONSTANTS(X)                                                                       \
  X(1, TRANSPOSE_B, 1) X(2, A_VEC4, 1) X(3, B_VEC4, 1) X(4, HAS_BIAS, 0) X(5, HAS_RESIDUAL, 0) X(6, ACTIVATION, 0) \
  X(7, GATED, 0)
// ROWS: rows of C per invocation (8 columns each).
#define VKATTN_GEMM_TEXEL_CONSTANTS(X) VKATTN_GEMM_EPILOGUE_CONSTANTS(X) X(8, ROWS, 32)
// A workgroup computes TILE_M x TILE_N of C in steps of TILE_K, each invocation
// THREAD_M x THREAD_N of it: LOCAL_SIZE = (TILE_M / THREAD_M) * (TILE_N / THREAD_N).
#define VKATTN_GEMM_TILED_CONSTANTS(X) \
  VKATTN_GEMM_EPILOGUE_CONSTANTS(X) X(8, TILE_M, 64) X(9, TILE_N, 64) X(10, TILE_K, 16) X(11, THREAD_M, 4) X(12, THREAD_N, 4)

VKATTN_CONSTANTS(GemmTexelConstants, VKATTN_GEMM_TEXEL_CONSTANTS)
VKATTN_CONSTANTS(GemmTiledConstants, VKATTN_GEMM_TILED_CONSTANTS)

VKATTN_NAMESPACE_END
#endif
