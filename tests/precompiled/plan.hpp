#pragma once
// A schedule compiled while the C++ compiles whose attention kernel runs generated code
// (a sliding window with ALiBi, written as a score program), shared by the generator
// that precompiles its kernels and the test that runs it.
#include <vkattn/vkattn.hpp>

namespace precompiled {

constexpr vkattn::Graph windowed_attention() {
  vkattn::Graph g{"windowed_attention"};
  auto q = g.input("q", {2, 4, 45, 16});
  auto k = g.input("k", {2, 4, 45, 16});
  auto v = g.input("v", {2, 4, 45, 16});
  auto slopes = g.weight("slopes", {4});
  auto scores = vkattn::matmul(q, k, vkattn::Transpose::b) * 0.25;
  scores = vkattn::alibi_bias(scores, slopes);
  scores = vkattn::hide_unless(scores, vkattn::window_visible(scores, 7));
  g.output("y", vkattn::matmul(vkattn::softmax(scores), v));
  return g;
}

inline constexpr auto plan = vkattn::compile<windowed_attention, vkattn::targets::llvmpipe>();
static_assert(plan.programs.size() == 1, "the attention runs a score program");

}  // namespace precompiled
