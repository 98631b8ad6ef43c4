// vkattn::compile<fn>() runs the whole compiler while the C++ compiles, at realistic
// sizes (seq 1024, model 512, 8 heads), and gives the schedule the run-time compile of
// the same graph gives.
#include <catch2/catch.hpp>
#include <vkattn/schedule_text.hpp>
#include <vkattn/vkattn.hpp>

namespace va = vkattn;

namespace {

constexpr va::Graph encoder_graph() {
  va::Graph g{"encoder_layer"};
  auto x = g.input("x", {1, 1024, 512});
  g.output("y", va::encoder_layer(g, x, {.heads = 8, .ffn_hidden = 2048, .mask = va::Mask::causal}));
  return g;
}

constexpr va::Graph decoder_graph() {
  va::Graph g{"decoder_layer"};
  auto x = g.input("x", {1, 1024, 512});
  auto memory = g.input("memory", {1, 777, 512});
  auto lengths = g.input("memory_lengths", {1}, va::DType::i32);
  g.output("y", va::decoder_layer(g, x, memory, {.heads = 8, .ffn_hidden = 2048, .memory_lengths = lengths}));
  return g;
}

constexpr auto encoder_plan = va::compile<encoder_graph>();
constexpr auto decoder_plan = va::compile<decoder_graph>();

// Self-attention: QKV GEMM, flash attention, output GEMM (+ bias + residual), LayerNorm;
// feed-forward: GEMM (+ bias, relu), GEMM (+ bias + residual), LayerNorm.
static_assert(encoder_plan.dispatch_count() == 7);
static_assert(encoder_plan.dispatches[1].kernel == va::Kernel::flash_attention);
// Decoder: self-attention as above (4), cross-attention: Q GEMM, one KV GEMM over the
// memory, flash attention, output GEMM, LayerNorm (5), feed-forward (3).
static_assert(decoder_plan.dispatch_count() == 12);
// The fused plan never holds a seq x seq matrix: the arena stays within a few
// [seq, ffn] activations.
static_assert(encoder_plan.arena_bytes < 3 * 1024 * 2048 * 4);

// Compiled for a named target: the same dispatches, each with the variant the target's
// tuning table picks.
constexpr auto nvidia_plan = va::compile<encoder_graph, va::targets::nvidia>();
constexpr auto llvmpipe_plan = va::compile<encoder_graph, va::targets::llvmpipe>();
static_assert(nvidia_plan.target.vendor == va::Vendor::nvidia);
static_assert(nvidia_plan.dispatch_count() == 7 && llvmpipe_plan.dispatch_count() == 7);
static_assert(nvidia_plan.dispatches[0].shader == va::Shader::gemm_tiled);
static_assert(nvidia_plan.dispatches[1].shader == va::Shader::flash_attention_tiled);
static_assert(nvidia_plan.dispatches[3].shader == va::Shader::layer_norm);
static_assert(llvmpipe_plan.dispatches[0].shader == va::Shader::gemm_texel);
static_assert(llvmpipe_plan.dispatches[1].shader == va::Shader::flash_attention_texel);
static_assert(nvidia_plan.dispatches[0].local_size() == 256);
static_assert(nvidia_plan.dispatches[0].shared_bytes() <= va::targets::nvidia.shared_memory_bytes);

}  // namespace

TEST_CASE("the compile-time schedule is the run-time schedule") {
  va::Graph encoder = encoder_graph();
  va::Schedule at_run_time = va::compile(encoder);
  va::Schedule at_compile_time = encoder_plan.thaw();
  CHECK(va::schedule_to_json(at_compile_time, &encoder) == va::schedule_to_json(at_run_time, &encoder));
  CHECK(at_compile_time == at_run_time);

  va::Graph decoder = decoder_graph();
  CHECK(va::schedule_to_json(decoder_plan.thaw(), &decoder) == va::schedule_to_json(va::compile(decoder), &decoder));
  CHECK(decoder_plan.thaw() == va::compile(decoder));
  CHECK(nvidia_plan.thaw() == va::compile(encoder, va::targets::nvidia));
  CHECK(llvmpipe_plan.thaw() == va::compile(encoder, va::targets::llvmpipe));
}
