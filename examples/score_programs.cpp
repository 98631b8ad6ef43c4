// Attention variants written as score programs: packed sequences of several documents,
// each token attending causally within its own document, plus ALiBi, in one attention
// kernel. The mask is a few lines over index values (vkattn/score_mods.hpp); the
// compiler turns it into GLSL inside the flash-attention kernel and skips every key
// block no query of a block can see. `vkattn compile --emit glsl` prints such source.
#include "example_support.hpp"

namespace va = vkattn;

constexpr va::Graph packed_documents(std::int64_t seq, std::int64_t model, std::int64_t heads) {
  va::Graph g{"packed_documents"};
  auto x = g.input("x", {1, seq, model});
  auto documents = g.input("documents", {1, seq}, va::DType::i32);  // the document of each token
  auto slopes = g.weight("alibi_slopes", {heads});
  auto project = [&](std::string_view name) {
    return va::split_heads(va::matmul(x, g.weight(name, {model, model}), va::Transpose::b), heads);
  };
  auto q = project("wq"), k = project("wk"), v = project("wv");
  auto scores = va::matmul(q, k, va::Transpose::b) * (1.0 / va::detail::constexpr_sqrt(double(model / heads)));
  scores = va::alibi_bias(scores, slopes);
  scores = va::hide_unless(scores, va::document_visible(scores, documents));  // same document, causal
  g.output("y", va::merge_heads(va::matmul(va::softmax(scores), v)));
  return g;
}

// Compiled in constant evaluation: one GEMM per projection and one attention kernel
// whose score program is part of the schedule.
constexpr auto compiled = va::compile<[] { return packed_documents(256, 128, 4); }>();
static_assert(compiled.dispatches[compiled.dispatch_count() - 1].kernel == va::Kernel::flash_attention &&
              compiled.dispatches[compiled.dispatch_count() - 1].program == 0);
static_assert(compiled.programs.size() == 1 && compiled.programs[0].visible >= 0);

int main(int argc, char** argv) {
  const bool small = example::small_sizes(argc, argv);
  return example::run_and_check(packed_documents(small ? 37 : 512, small ? 32 : 128, 4));
}
