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
  VKATTN_U32_ARRAY(a_dims, 4)
VKATTN_PUSH_END(GemmPush)

// dims: C's sizes aligned from the back to four axes (1 in front), by which the
// generated epilogue reads its tensors; a_dims likewise A's, for the generated
// prologue (A's element of row z * M + m, column k).
// GATED: 1, B (transposed, [2N, K]) holds two column halves [0, N) and [N, 2N), the
// bias 2N values likewise; both are accumulated and the generated epilogue combines
// them (SwiGLU's silu(gate) * up in one GEMM). 0: one product.
#define VKATTN_GEMM_EPILOGUE_CONSTANTS(X) X(1, TRANSPOSE_B, 1) X(2, A_VEC4, 1) X(3, B_VEC4, 1) X(4, HAS_BIAS, 0) X(5, GATED, 0)
// ROWS: rows of C per invocation (8 columns each).
#define VKATTN_GEMM_TEXEL_CONSTANTS(X) VKATTN_GEMM_EPILOGUE_CONSTANTS(X) X(6, ROWS, 32)
// A workgroup computes TILE_M x TILE_N of C in steps of TILE_K, each invocation
// THREAD_M x THREAD_N of it: LOCAL_SIZE = (TILE_M / THREAD_M) * (TILE_N / THREAD_N).
#define VKATTN_GEMM_TILED_CONSTANTS(X) \
  VKATTN_GEMM_EPILOGUE_CONSTANTS(X) X(6, TILE_M, 64) X(7, TILE_N, 64) X(8, TILE_K, 16) X(9, THREAD_M, 4) X(10, THREAD_N, 4)

VKATTN_CONSTANTS(GemmTexelConstants, VKATTN_GEMM_TEXEL_CONSTANTS)
VKATTN_CONSTANTS(GemmTiledConstants, VKATTN_GEMM_TILED_CONSTANTS)

VKATTN_NAMESPACE_END
#endif
