// Repeated bodies on the device, validation on: stacks of 2 and 5 layers built as one
// repeated body against the same layers written out (outputs, and the dispatches of
// each iteration), fused and unfused under every target, f32 and f16; and decoding
// through a repeated body, each layer keeping its own KV cache.
#include "vkattn/decoder.hpp"
#include "vkattn/presets.hpp"
#include "vkattn/unroll_repeats.hpp"
#include "vulkan_harness.hpp"

namespace va = vkattn;
using va::testing::check_on_device;
using va::testing::compare;
using va::testing::validated_context;

namespace {

va::PresetOptions stack_options(const char* preset, std::int64_t layers) {
  va::PresetOptions o{.name = preset, .batch = 2, .seq = 7, .model = 24, .heads = 4, .ffn_hidden = 40, .layers = layers};
  o.kv_heads = 2;
  if (std::string(preset) == "encoder_layer") o.kv_heads = 0;
  o.mask = va::Mask::causal;
  return o;
}

// Whether two dispatches run the same kernel variant on the same sizes (their labels may
// differ where an op has a generated name, which counts nodes).
bool same_work(const va::Dispatch& a, const va::Dispatch& b) {
  return a.kernel == b.kernel && a.shader == b.shader && a.config == b.config && a.push_constants == b.push_constants &&
         a.specialization == b.specialization && a.workgroups == b.workgroups;
}

}  // namespace

TEST_CASE("a repeated stack equals its layers written out: outputs and each iteration's dispatches", "[vulkan]") {
  for (const char* preset : {"llama_block", "encoder_layer"})
    for (const std::int64_t layers : {2, 5}) {
      INFO(preset << ", " << layers << " layers");
      va::PresetOptions o = stack_options(preset, layers);
      const va::Graph repeated = va::build_preset(o);
      o.unrolled = true;
      const va::Graph unrolled = va::build_preset(o);
      const va::TensorMap bindings = va::random_bindings(repeated, 11);
      // The reference runs both identically.
      CHECK(va::run_reference(repeated, bindings).outputs.at("y").values ==
            va::run_reference(unrolled, bindings).outputs.at("y").values);
      check_on_device(repeated, bindings, 1e-5);
      va::testing::check_schedule_on_device(repeated, true, va::testing::rounded_to_f16(bindings), 2e-2, true);
      // The run's dispatches are the written-out layers', with the copy of x (an input:
      // the body cannot carry its value in the input's storage) before them; the last
      // iteration writes the output itself.
      for (const bool fuse : {true, false}) {
        INFO((fuse ? "fused" : "unfused"));
        const va::Target target = validated_context().target();
        const va::Schedule body = va::compile(repeated, target, va::CompileOptions{.fuse = fuse});
        REQUIRE(body.repeats.size() == 1);
        const va::Schedule run = va::unroll_repeats(body);
        const va::Schedule reference = va::compile(unrolled, target, va::CompileOptions{.fuse = fuse});
        REQUIRE(run.dispatches.size() == reference.dispatches.size() + 1);
        CHECK(run.dispatches.front().kernel == va::Kernel::gather);
        for (std::size_t i = 0; i < reference.dispatches.size(); ++i) {
          INFO("dispatch " << i << ": " << reference.dispatches[i].label.view() << " vs "
                           << run.dispatches[i + 1].label.view());
          CHECK(same_work(run.dispatches[i + 1], reference.dispatches[i]));
        }
        // The layer is compiled once: the schedule holds one layer's dispatches and the copy.
        CHECK((body.dispatch_count() - 1) * std::size_t(layers) == reference.dispatch_count());
        for (const va::Dispatch& d : run.dispatches) CHECK(std::string(d.label.view()).find("{i}") == std::string::npos);
      }
    }
}

TEST_CASE("decoding through a repeated stack: each layer's cache is its own", "[vulkan]") {
  va::PresetOptions o = stack_options("llama_block", 3);
  o.cache = 256;  // long enough for targets that split a step's attention over keys
  const va::Graph repeated = va::build_preset(o);
  o.unrolled = true;
  const va::Graph unrolled = va::build_preset(o);
  va::TensorMap weights = va::random_bindings(repeated, 5);
  weights.erase("x");
  weights.erase("positions");
  const va::Tensor prompt = va::Tensor::random(va::Shape{2, 5, 24}, 9, -1.0, 1.0);
  std::vector<va::Tensor> steps{prompt};
  for (std::uint64_t t = 0; t < 4; ++t) steps.push_back(va::Tensor::random(va::Shape{2, 1, 24}, 20 + t, -1.0, 1.0));
  // Every target: some split a step's attention over keys, with a workspace whose
  // place differs between the prefill's schedule and the steps'; the caches must not.
  for (const va::Target& target : va::testing::targets_to_prove()) {
    INFO("target " << target.name.view());
    const va::DecodeOptions options{.compile = {.target = target}};
    va::Decoder a(validated_context(), repeated, weights, options);
    va::Decoder b(validated_context(), unrolled, weights, options);
    for (std::size_t t = 0; t < steps.size(); ++t) {
      INFO("run " << t);
      const va::TensorMap inputs{{"x", steps[t]}};
      const va::TensorMap ya = t == 0 ? a.prefill(inputs) : a.step(inputs);
      const va::TensorMap yb = t == 0 ? b.prefill(inputs) : b.step(inputs);
      CHECK(compare(ya.at("y"), yb.at("y")).normalised_error <= 1e-6);
    }
  }
  va::testing::require_no_validation_messages();
}
