// The trust boundary of schedules: every schedule the compiler makes passes, and a
// schedule broken in any of the ways a file or a hand-built schedule could be is refused
// with the slot or dispatch and the field named.
#include <catch2/catch.hpp>
#include <functional>
#include <vkattn/presets.hpp>
#include <vkattn/schedule_check.hpp>
#include <vkattn/schedule_text.hpp>
#include <vkattn/vkattn.hpp>

namespace va = vkattn;
using Catch::Matchers::Contains;

namespace {

va::Schedule decoder_schedule(const va::Target& target = va::targets::nvidia) {
  va::Graph g = va::build_preset({.name = "decoder_layer", .batch = 2, .seq = 9, .kv_seq = 13, .model = 32,
                                  .heads = 4, .mask = va::Mask::padding});
  return va::compile(g, target);
}

std::string error_of(const va::Schedule& s) {
  try {
    va::check_schedule(s);
  } catch (const va::ScheduleError& e) {
    return e.what();
  }
  return "no error";
}

std::size_t first_of(const va::Schedule& s, va::Kernel kernel) {
  for (std::size_t i = 0; i < s.dispatches.size(); ++i)
    if (s.dispatches[i].kernel == kernel) return i;
  FAIL("no dispatch of that kernel");
  return 0;
}

}  // namespace

TEST_CASE("every schedule the compiler makes passes the check") {
  for (const va::Target* target : va::targets::all)
    for (const char* preset : {"mha", "cross_attention", "gqa", "encoder_layer", "decoder_layer"})
      for (bool fuse : {true, false})
        for (bool half : {false, true})
          for (std::int64_t seq : {1, 9, 300}) {
            INFO(preset << " seq " << seq << (fuse ? " fused" : " unfused") << (half ? " f16" : "") << " for "
                        << target->name.view());
            va::Graph g = va::build_preset({.name = preset, .batch = 2, .seq = seq, .kv_seq = 1100, .model = 32,
                                            .heads = 4, .mask = va::Mask::padding});
            CHECK_NOTHROW(va::check_schedule(va::compile(g, *target, {.fuse = fuse, .f16_storage = half})));
          }
}

TEST_CASE("a broken schedule is refused naming the slot or dispatch and the field") {
  const va::Schedule good = decoder_schedule();
  REQUIRE(error_of(good) == "no error");
  auto broken = [&](const std::function<void(va::Schedule&)>& change) {
    va::Schedule s = good;
    change(s);
    return error_of(s);
  };
  CHECK_THAT(broken([](va::Schedule& s) { s.slots[0].offset = s.arena_bytes; }), Contains("past the"));
  CHECK_THAT(broken([](va::Schedule& s) { s.slots[0].offset = 100; }), Contains("offset: is 100, not a non-negative multiple of 256"));
  CHECK_THAT(broken([](va::Schedule& s) { s.slots[1].bytes += 4; }), Contains("bytes: is"));
  CHECK_THAT(broken([](va::Schedule& s) { s.slots[1].shape[0] = -3; }), Contains("negative dimension"));
  CHECK_THAT(broken([](va::Schedule& s) { s.dispatches[0].slots[0] = -1; }), Contains("has no result at binding 0"));
  CHECK_THAT(broken([](va::Schedule& s) { s.dispatches[0].slots[1] = 999; }), Contains("names slot 999"));
  CHECK_THAT(broken([](va::Schedule& s) { s.dispatches[0].push_constants.push_back(0); }),
             Contains("push_constants: has 22 words; gemm.tiled declares 21"));
  CHECK_THAT(broken([](va::Schedule& s) { s.dispatches[0].specialization.clear(); }), Contains("specialization"));
  CHECK_THAT(broken([](va::Schedule& s) { s.dispatches[0].workgroups[1] = 0; }), Contains("launch no workgroup"));
  CHECK_THAT(broken([](va::Schedule& s) { s.dispatches[0].shader = va::Shader::softmax; }), Contains("does not compute gemm"));
  CHECK_THAT(broken([](va::Schedule& s) { s.dispatches[0].access[1] = va::Access::texel_vec4; }),
             Contains("is read as texel_vec4 but gemm.tiled declares it otherwise"));
  // Push constants that reach outside the tensors.
  CHECK_THAT(broken([](va::Schedule& s) { s.dispatches[0].push_constants[0] *= 100; }), Contains("C reaches element"));
  CHECK_THAT(broken([](va::Schedule& s) { s.dispatches[0].push_constants[7] *= 100; }), Contains("A reaches element"));
  const std::size_t attention = first_of(good, va::Kernel::flash_attention);
  CHECK_THAT(broken([&](va::Schedule& s) { s.dispatches[attention].push_constants[7] += 1000; }),
             Contains("Q reaches element"));
  CHECK_THAT(broken([&](va::Schedule& s) { s.dispatches[attention].push_constants[2] += 1000; }),
             Contains("K reaches element"));
  const std::size_t norm = first_of(good, va::Kernel::layer_norm);
  CHECK_THAT(broken([&](va::Schedule& s) { s.dispatches[norm].push_constants[0] += 1; }), Contains("the rows reaches"));
  const va::Schedule unfused = va::compile(va::build_preset({.name = "mha", .seq = 9, .model = 32, .heads = 4}),
                                           va::targets::llvmpipe, {.fuse = false});
  const std::size_t gather = first_of(unfused, va::Kernel::gather);
  va::Schedule s = unfused;
  s.dispatches[gather].push_constants[14] += 100000;  // the offset
  CHECK_THAT(error_of(s), Contains("the source reaches element"));
  // A prologue's coordinates (a_dims, the last four words) must span A.
  va::Graph g{"prologue"};
  auto x = g.input("x", {2, 5, 8});
  g.output("y", va::matmul(va::mul(x, g.input("rows", {2, 5, 1})), g.weight("w", {3, 8}), va::Transpose::b));
  va::Schedule with_prologue = va::compile(g, va::targets::nvidia);
  REQUIRE(with_prologue.dispatch_count() == 1);
  REQUIRE(error_of(with_prologue) == "no error");
  with_prologue.dispatches[0].push_constants[with_prologue.dispatches[0].push_constants.size() - 1] += 1;
  CHECK_THAT(error_of(with_prologue), Contains("a_dims: hold 90 elements, not A's 80"));
  // A program tensor's element must be its slot's (its buffer is declared with it).
  va::Schedule mixed = va::compile(g, va::targets::nvidia);
  va::Expression& program = mixed.programs[std::size_t(mixed.dispatches[0].program)];
  REQUIRE(program.tensors.size() == 1);
  program.tensors[0].dtype = va::DType::f16;
  CHECK_THAT(error_of(mixed), Contains("program tensor 0: is read as f16 from a slot of f32 elements"));
}

TEST_CASE("a pointwise kernel's further outputs are checked like its result") {
  va::Graph g{"two_outputs"};
  auto x = g.input("x", {4, 6});
  auto h = va::tanh(x);
  g.output("h", h);
  g.output("y", va::mul(h, g.input("gain", {6})));
  const va::Schedule good = va::compile(g, va::targets::nvidia);
  REQUIRE(good.dispatch_count() == 1);
  REQUIRE(good.programs[std::size_t(good.dispatches[0].program)].outputs.size() == 1);
  REQUIRE(error_of(good) == "no error");
  auto broken = [&](const std::function<void(va::Schedule&, va::Expression&)>& change) {
    va::Schedule s = good;
    change(s, s.programs[std::size_t(s.dispatches[0].program)]);
    return error_of(s);
  };
  CHECK_THAT(broken([](va::Schedule&, va::Expression& e) { e.outputs[0].dtype = va::DType::f16; }),
             Contains("program output 0: is stored as f16 into a slot of f32 elements"));
  CHECK_THAT(broken([](va::Schedule&, va::Expression& e) { e.outputs[0].binding = e.tensors[0].binding; }),
             Contains("output 0: shares binding"));
  CHECK_THAT(broken([](va::Schedule&, va::Expression& e) { e.outputs[0].node = 99; }), Contains("stores node 99"));
  CHECK_THAT(broken([](va::Schedule& s, va::Expression& e) {
               s.dispatches[0].slots[std::size_t(e.outputs[0].binding)] = s.dispatches[0].slots[2];  // gain: 6 elements
             }),
             Contains("a further output reaches element 23"));
  CHECK_THAT(broken([](va::Schedule& s, va::Expression& e) { s.dispatches[0].slots[std::size_t(e.outputs[0].binding)] = -1; }),
             Contains("has no tensor at binding"));
  // Only a pointwise kernel stores further outputs.
  va::Schedule gemm = decoder_schedule();
  const std::size_t with_program = [&] {
    for (std::size_t i = 0; i < gemm.dispatches.size(); ++i)
      if (gemm.dispatches[i].kernel == va::Kernel::gemm && gemm.dispatches[i].program >= 0) return i;
    FAIL("no gemm with a program");
    return std::size_t(0);
  }();
  va::ExprOutput stray;
  stray.node = 0;
  stray.binding = 14;
  gemm.programs[std::size_t(gemm.dispatches[with_program].program)].outputs.push_back(stray);
  CHECK_THAT(error_of(gemm), Contains("has further outputs, which only a pointwise kernel stores"));
}

TEST_CASE("schedule JSON that is well formed but makes no sense is refused") {
  va::Graph g = va::build_preset({.name = "mha", .seq = 9, .model = 32, .heads = 4});
  va::Schedule s = va::compile(g, va::targets::nvidia);
  s.slots[0].offset = 1 << 20;
  try {
    va::schedule_from_json(va::schedule_to_json(s, &g));
    FAIL("accepted");
  } catch (const va::ScheduleJsonError& e) {
    CHECK_THAT(std::string(e.what()), Contains("schedule JSON: the schedule: slot 0") && Contains("past the"));
  }
}
