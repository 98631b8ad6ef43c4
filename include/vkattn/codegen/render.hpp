#pragma once
// Rendering generated code (codegen/render_glsl.cpp): an Expression to GLSL functions
// that a kernel template includes as "vkattn_generated.glsl", and to the readable text
// the listing shows. Rendering is a pure function of the expression: the same
// expression always gives the same source, which keys the SPIR-V cache.
#include <string>

#include "vkattn/codegen/expression.hpp"
#include "vkattn/kernels/registry.hpp"

namespace vkattn {

// For the attention kernels (flash_attention_*.comp with VKATTN_SCORE_PROGRAM): the
// program's buffers (bindings 9..), and
//   bool  score_visible(ivec4 c, ivec4 e, ivec2 sqk)       VKATTN_SCORE_VISIBLE
//   float score_value(float s, ivec4 c, ivec4 e, ivec2 sqk) VKATTN_SCORE_VALUE
//   bool  score_block_visible(ivec4 lo, ivec4 hi, ivec4 e, ivec2 sqk): false only when
//         no element with lo <= c <= hi is visible (interval arithmetic over the
//         predicate), so the kernel may skip the block.
// c: the coordinates (b, h, i, j); e: their extents; sqk: the score's (Sq, Sk).
std::string render_score_program(const Expression& program);

// For shaders/pointwise.comp: the result buffer (binding 0), the tensors (1..), the
// further outputs (their bindings, 8..), and
//   void vkattn_store_all(uint at, ivec4 c, ivec4 e, ivec2 sqk): computes the element
//         at coordinates c and stores the result and every further output at `at`.
std::string render_pointwise(const Expression& expression);

// For the GEMM kernels (gemm_*.comp with VKATTN_GENERATED): the tensors' buffers
// (bindings 9..), and
//   float vkattn_epilogue(float s, float s1, uint at): the value stored at element `at`
//         of C from s = alpha * A·B + bias there (s1: the second column half's, gated);
// and, when the expression has a prologue (VKATTN_PROLOGUE),
//   float vkattn_prologue(float s, ivec4 c): what the product reads for the element
//         of A at coordinates c (of A's logical shape) whose value is s;
//   ivec4 vkattn_prologue_row(uint row): the coordinates of row z * M + m at column 0
//         (computed once per row: the divisions stay out of the k loop);
//   vec4 vkattn_prologue4(vec4 a, ivec4 row_at, uint k): four elements along k.
std::string render_epilogue(const Expression& expression);

// The generated source a dispatch of `kernel` includes: one of the three above.
std::string render_generated(Kernel kernel, const Expression& expression);

// "where(j <= i, s, -inf)": node `root` as text, for listings and remarks.
std::string expression_text(const Expression& expression, int root);

}  // namespace vkattn
