// Generated elementwise code against the CPU reference: every elementwise op alone and
// in chains of two to five, as a GEMM's epilogue and as a standalone group, in f32 and
// f16, under every target, fused and unfused, at sizes off every tile; gated products
// of a packed GEMM in both orders and in forms no fixed kernel had. Every run poisons
// the arena and requires a silent validation layer (vulkan_harness.hpp).
#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include <vkattn/codegen/render.hpp>
#include <vkattn/schedule_check.hpp>
#include <vkattn/schedule_text.hpp>

#include "vulkan_harness.hpp"

namespace va = vkattn;
using va::testing::check_schedule_on_device;
using va::testing::fused_kernels;

namespace {

constexpr double f16_tolerance = 2e-3;

// The tensors a stage may read besides its operand, all broadcasting to [2, S, N],
// made when a stage first reads them (a graph input nothing reads is refused by a run).
struct Operands {
  va::Graph& g;
  std::int64_t seq, n;
  va::DType dtype;
  va::Value input(const char* name, va::Shape shape) const {
    const va::Value existing = g.find(name);
    return existing.valid() ? existing : g.input(name, shape, dtype);
  }
  va::Value bias() const { return input("bias", {n}); }
  va::Value gain() const { return input("gain", {n}); }
  va::Value residual() const { return input("residual", {2, seq, n}); }
  va::Value row() const { return input("row", {2, seq, 1}); }  // one value per row (a statistic)
};

struct Stage {
  const char* name;
  std::function<va::Value(va::Value, const Operands&)> apply;
};

std::vector<Stage> stages() {
  return {
      {"relu", [](va::Value x, const Operands&) { return va::relu(x); }},
      {"gelu", [](va::Value x, const Operands&) { return va::gelu(x); }},
      {"silu", [](va::Value x, const Operands&) { return va::silu(x); }},
      {"gelu_tanh", [](va::Value x, const Operands&) { return va::gelu_tanh(x); }},
      {"tanh", [](va::Value x, const Operands&) { return va::tanh(x); }},
      {"sigmoid", [](va::Value x, const Operands&) { return va::sigmoid(x); }},
      {"clamp", [](va::Value x, const Operands&) { return va::clamp(x, -0.4, 0.6); }},
      {"scale", [](va::Value x, const Operands&) { return va::scale(x, 1.7); }},
      {"bias", [](va::Value x, const Operands& o) { return va::add(x, o.bias()); }},
      {"gain", [](va::Value x, const Operands& o) { return va::mul(o.gain(), x); }},
      {"residual", [](va::Value x, const Operands& o) { return va::add(o.residual(), x); }},
      {"quick_gelu", [](va::Value x, const Operands&) { return va::mul(x, va::sigmoid(va::scale(x, 1.702))); }},
      {"leaky", [](va::Value x, const Operands&) { return va::where(x > 0.0, x, va::scale(x, 0.1)); }},
      {"minimum", [](va::Value x, const Operands& o) { return va::minimum(x, o.residual()); }},
      {"decay", [](va::Value x, const Operands&) { return va::exp(va::scale(va::abs(x), -1.0)); }},
      {"row", [](va::Value x, const Operands& o) { return va::mul(x, o.row()); }},
      {"rsqrt", [](va::Value x, const Operands&) { return va::rsqrt(va::abs(x) + 0.5); }},
  };
}

// Single stages, then chains of 2 to 5 stages spread over the list.
std::vector<std::vector<int>> chains() {
  const int n = int(stages().size());
  std::vector<std::vector<int>> out;
  for (int i = 0; i < n; ++i) out.push_back({i});
  for (int length = 2; length <= 5; ++length)
    for (int start : {0, 4, 9}) {
      std::vector<int> chain;
      for (int j = 0; j < length; ++j) chain.push_back((start + j * 7 + length) % n);
      out.push_back(chain);
    }
  return out;
}

std::string chain_name(const std::vector<int>& chain) {
  std::string name;
  for (int i : chain) name += (name.empty() ? "" : " -> ") + std::string(stages()[std::size_t(i)].name);
  return name;
}

enum class Form { epilogue, prologue, standalone };

const char* form_name(Form form) {
  switch (form) {
    case Form::epilogue: return "epilogue";
    case Form::prologue: return "prologue";
    case Form::standalone: return "standalone";
  }
  return "?";
}

// chain(x · Wᵀ), chain(x) · Wᵀ or chain(x), x [2, S, K] for a product, [2, S, N]
// alone, in `dtype`.
va::Graph chain_graph(const std::vector<int>& chain, Form form, va::DType dtype) {
  constexpr std::int64_t seq = 7, k = 13, n = 19;
  va::Graph g{std::string(form_name(form)) + "_chain"};
  const Operands o{g, seq, form == Form::prologue ? k : n, dtype};
  auto weight = [&] { return g.weight("w", {n, k}, dtype); };
  va::Value h = form == Form::epilogue ? va::matmul(g.input("x", {2, seq, k}, dtype), weight(), va::Transpose::b)
                                       : g.input("x", {2, seq, form == Form::prologue ? k : n}, dtype);
  for (int i : chain) h = stages()[std::size_t(i)].apply(h, o);
  if (form == Form::prologue) h = va::matmul(h, weight(), va::Transpose::b);
  g.output("y", h);
  return g;
}

// Both schedules under every target, in f32, and with every tensor held in f16.
void check_everywhere(const va::Graph& g, std::uint64_t seed) {
  const va::TensorMap bindings = va::random_bindings(g, seed);
  check_schedule_on_device(g, false, bindings, 1e-5);
  check_schedule_on_device(g, true, bindings, 1e-5);
  const va::TensorMap rounded = va::testing::rounded_to_f16(bindings);
  check_schedule_on_device(g, false, rounded, f16_tolerance, true);
  check_schedule_on_device(g, true, rounded, f16_tolerance, true);
}

std::string epilogue_text(const va::Schedule& s, std::size_t dispatch) {
  const va::Dispatch& d = s.dispatches[dispatch];
  if (d.program < 0) return "";
  const va::Expression& e = s.programs[std::size_t(d.program)];
  return va::expression_text(e, e.value);
}

}  // namespace

TEST_CASE("every elementwise chain fuses into its GEMM's epilogue and matches the reference", "[vulkan]") {
  std::uint64_t seed = 1;
  for (const std::vector<int>& chain : chains()) {
    INFO("epilogue " << chain_name(chain));
    const va::Graph g = chain_graph(chain, Form::epilogue, va::DType::f32);
    REQUIRE(fused_kernels(g) == std::vector<va::Kernel>{va::Kernel::gemm});
    check_everywhere(g, seed++);
  }
}

TEST_CASE("every elementwise chain on a GEMM's A operand fuses into its prologue and matches the reference", "[vulkan]") {
  std::uint64_t seed = 200;
  for (const std::vector<int>& chain : chains()) {
    INFO("prologue " << chain_name(chain));
    const va::Graph g = chain_graph(chain, Form::prologue, va::DType::f32);
    const va::Schedule s = va::compile(g);
    REQUIRE(fused_kernels(g) == std::vector<va::Kernel>{va::Kernel::gemm});
    REQUIRE(s.dispatches[0].program >= 0);
    CHECK(s.programs[std::size_t(s.dispatches[0].program)].prologue >= 0);
    check_everywhere(g, seed++);
  }
}

TEST_CASE("every elementwise chain on its own is one generated kernel and matches the reference", "[vulkan]") {
  std::uint64_t seed = 100;
  for (const std::vector<int>& chain : chains()) {
    INFO("standalone " << chain_name(chain));
    const va::Graph g = chain_graph(chain, Form::standalone, va::DType::f32);
    REQUIRE(fused_kernels(g) == std::vector<va::Kernel>{va::Kernel::pointwise});
    // Unfused, one dispatch per op: the debugging baseline.
    CHECK(va::compile(g, va::CompileOptions{.fuse = false}).dispatch_count() >= chain.size());
    check_everywhere(g, seed++);
  }
}

TEST_CASE("an f16 graph's chains run in f16 storage with f32 arithmetic", "[vulkan]") {
  for (Form form : {Form::epilogue, Form::prologue, Form::standalone}) {
    const std::vector<int> chain{8, 3, 9, 10, 15};  // bias, gelu_tanh, gain, residual, row
    INFO(form_name(form) << " " << chain_name(chain));
    const va::Graph g = chain_graph(chain, form, va::DType::f16);
    const va::TensorMap rounded = va::testing::rounded_to_f16(va::random_bindings(g, 9));
    check_schedule_on_device(g, true, rounded, f16_tolerance);
    check_schedule_on_device(g, false, rounded, f16_tolerance);
  }
}

TEST_CASE("one generated kernel reads and writes f16 and f32 tensors side by side (casts between them)", "[vulkan]") {
  // Each buffer is declared with its own element type: an f16 value is f16 on the device
  // whatever the schedule's storage, an f32 value is f32 unless the schedule stores
  // every float in f16. A GEMM's epilogue keeps the GEMM's dtype: a cast of the product
  // to f16 is a kernel of its own.
  for (Form form : {Form::standalone, Form::epilogue}) {
    INFO(form_name(form));
    va::Graph g{"mixed"};
    const va::Value half = g.input("half", {3, 9, 11}, va::DType::f16);
    auto product = [&](const char* x, const char* w) {
      return va::matmul(g.input(x, {3, 9, 5}), g.weight(w, {11, 5}), va::Transpose::b);
    };
    const va::Value full = form == Form::epilogue ? product("x", "w") : g.input("full", {3, 9, 11});
    g.output("y", va::sigmoid(va::add(va::mul(va::cast(half, va::DType::f32), full), g.input("bias", {11}))));
    g.output("z", va::add(va::cast(va::tanh(g.input("other", {3, 9, 11})), va::DType::f16), half));
    if (form == Form::epilogue) g.output("narrowed", va::add(va::cast(product("x2", "w2"), va::DType::f16), half));
    const std::vector<va::Kernel> kernels = fused_kernels(g);  // y's GEMM carries its epilogue
    CHECK(std::count(kernels.begin(), kernels.end(), va::Kernel::gemm) == (form == Form::epilogue ? 2 : 0));
    CHECK(kernels.size() == (form == Form::epilogue ? 4u : 2u));
    const va::TensorMap rounded = va::testing::rounded_to_f16(va::random_bindings(g, 31));
    check_schedule_on_device(g, true, rounded, f16_tolerance);
    check_schedule_on_device(g, false, rounded, f16_tolerance);
    check_schedule_on_device(g, true, rounded, f16_tolerance, true);
  }
}

TEST_CASE("gated products of a packed GEMM: SwiGLU, GeGLU, both orders, and forms no fixed kernel had", "[vulkan]") {
  using Residual = std::function<va::Value()>;
  using Combine = std::function<va::Value(va::Value, va::Value, const Residual&)>;
  struct Case {
    const char* name;
    bool up_first;  // the up projection written (and packed) before the gate
    bool biased;
    Combine combine;  // (gate, up, residual)
    const char* epilogue;
  };
  const Case cases[] = {
      {"swiglu", false, false, [](va::Value g, va::Value u, const Residual&) { return va::mul(va::silu(g), u); },
       "(silu(acc[:, :N]) * acc[:, N:])"},
      {"swiglu, up first", true, false, [](va::Value g, va::Value u, const Residual&) { return va::mul(u, va::silu(g)); },
       "(acc[:, :N] * silu(acc[:, N:]))"},
      {"geglu with biases", false, true, [](va::Value g, va::Value u, const Residual&) { return va::mul(va::gelu(g), u); },
       "(gelu(acc[:, :N]) * acc[:, N:])"},
      {"geglu, up first", true, false, [](va::Value g, va::Value u, const Residual&) { return va::mul(va::gelu(g), u); },
       "(gelu(acc[:, N:]) * acc[:, :N])"},
      {"a * sigmoid(b)", false, false, [](va::Value g, va::Value u, const Residual&) { return va::mul(u, va::sigmoid(g)); },
       "(acc[:, N:] * sigmoid(acc[:, :N]))"},
      {"gelu_tanh(a) * b + residual", false, true,
       [](va::Value g, va::Value u, const Residual& r) { return va::add(va::mul(va::gelu_tanh(g), u), r()); },
       "((gelu_tanh(acc[:, :N]) * acc[:, N:]) + t0)"},
      {"clamp(a) * silu(b) - a", true, false,
       [](va::Value g, va::Value u, const Residual&) { return va::sub(va::mul(va::clamp(g, -1.0, 1.0), va::silu(u)), g); },
       "((clamp(acc[:, N:], -1, 1) * silu(acc[:, :N])) - acc[:, N:])"},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    constexpr std::int64_t seq = 9, model = 12, hidden = 21;
    va::Graph g{"gated"};
    auto x = g.input("x", {2, seq, model});
    const Residual r = [&] { return g.input("r", {2, seq, hidden}); };
    auto project = [&](const char* name) {
      return c.biased ? va::linear(g, x, name, hidden) : va::linear(x, g.weight(std::string(name) + ".weight", {hidden, model}));
    };
    va::Value gate, up;
    if (c.up_first) {
      up = project("up");
      gate = project("gate");
    } else {
      gate = project("gate");
      up = project("up");
    }
    g.output("y", c.combine(gate, up, r));
    const va::Schedule s = va::compile(g);
    REQUIRE(s.dispatch_count() == 1);
    REQUIRE(s.dispatches[0].kernel == va::Kernel::gemm);
    const auto& spec = s.dispatches[0].specialization;
    CHECK(va::constants_of<va::Shader::gemm_texel>({spec.data(), spec.size()}).GATED == 1);
    CHECK(epilogue_text(s, 0) == c.epilogue);
    check_everywhere(g, 7);
  }
}

TEST_CASE("a feed-forward with one biased projection packs both and is two GEMMs", "[vulkan]") {
  // down(gelu_tanh(x·W1ᵀ + b1) * (x·W3ᵀ)) + x
  va::Graph g{"ffn"};
  auto x = g.input("x", {2, 11, 24});
  auto first = va::linear(g, x, "w1", 40);  // statements: the packing order is the graph's
  auto third = va::linear(x, g.weight("w3.weight", {40, 24}));
  auto h = va::mul(va::gelu_tanh(first), third);
  g.output("y", va::add(va::linear(h, g.weight("down.weight", {24, 40})), x));
  const va::Schedule s = va::compile(g);
  INFO(va::schedule_listing(s));
  REQUIRE(fused_kernels(g) == std::vector<va::Kernel>{va::Kernel::gemm, va::Kernel::gemm});
  CHECK(epilogue_text(s, 0) == "(gelu_tanh((acc[:, :N] + t0)) * acc[:, N:])");
  CHECK(epilogue_text(s, 1) == "(acc + t0)");
  // The packed product's halves never reach memory: the arena holds x, h and y.
  const va::Schedule unfused = va::compile(g, va::CompileOptions{.fuse = false});
  CHECK(s.arena_bytes <= unfused.arena_bytes);
  check_everywhere(g, 11);
}

// The further outputs of dispatch `i`'s program, as "name = expression".
std::vector<std::string> further_outputs(const va::Schedule& s, std::size_t i) {
  std::vector<std::string> out;
  const va::Dispatch& d = s.dispatches[i];
  if (d.program < 0) return out;
  const va::Expression& e = s.programs[std::size_t(d.program)];
  for (const va::ExprOutput& o : e.outputs)
    out.push_back(std::string(s.slots[std::size_t(d.slots[std::size_t(o.binding)])].name.view()) + " = " +
                  va::expression_text(e, o.node));
  return out;
}

TEST_CASE("a group whose values are read beyond it is one kernel storing each of them", "[vulkan]") {
  // shared feeds both outputs; each output is stored by the one kernel.
  va::Graph g{"shared_value"};
  auto x = g.input("x", {3, 10});
  auto shared = va::gelu(va::scale(x, 2.0));
  g.output("a", va::add(va::sigmoid(shared), x));
  g.output("b", va::mul(va::tanh(shared), shared));
  const va::Schedule s = va::compile(g);
  INFO(va::schedule_listing(s));
  REQUIRE(s.dispatch_count() == 1);
  CHECK(s.dispatches[0].kernel == va::Kernel::pointwise);
  CHECK(epilogue_text(s, 0) == "(tanh(gelu((t0 * 2))) * gelu((t0 * 2)))");
  CHECK(further_outputs(s, 0) == std::vector<std::string>{"a = (sigmoid(gelu((t0 * 2))) + t0)"});
  // Nothing of the group reaches memory but what is read beyond it.
  CHECK(s.arena_bytes <= va::compile(g, va::CompileOptions{.fuse = false}).arena_bytes);
  check_everywhere(g, 3);
}

TEST_CASE("a residual stream the group also transforms is stored by the group for a later reader", "[vulkan]") {
  // h = x + a is read by the group (relu(h) * gain) and after it, by the last add: one
  // kernel writes both, the norm reads the group's result, the add reads h.
  constexpr std::int64_t seq = 11, model = 21;
  va::Graph g{"residual_stream"};
  auto h = va::add(g.input("x", {2, seq, model}), g.input("a", {2, seq, model}));
  auto gated = va::mul(va::relu(h), g.weight("gain", {model}));
  g.output("y", va::add(va::rms_norm(gated, g.weight("norm", {model})), h));
  const va::Schedule s = va::compile(g);
  INFO(va::schedule_listing(s));
  REQUIRE(fused_kernels(g) == std::vector<va::Kernel>{va::Kernel::pointwise, va::Kernel::layer_norm, va::Kernel::pointwise});
  CHECK(epilogue_text(s, 0) == "(relu((t0 + t1)) * t2)");
  REQUIRE(further_outputs(s, 0).size() == 1);
  CHECK(further_outputs(s, 0)[0].find(" = (t0 + t1)") != std::string::npos);
  // relu(h) gets no slot, and the group writes h and its result over the inputs x and
  // a, which it reads for the last time: no more arena than one kernel per op.
  const va::Schedule unfused = va::compile(g, va::CompileOptions{.fuse = false});
  CHECK(s.slots.size() + 1 == unfused.slots.size());
  CHECK(s.memory.naive_bytes < unfused.memory.naive_bytes);
  CHECK(s.arena_bytes <= unfused.arena_bytes);
  check_everywhere(g, 5);
}

TEST_CASE("a group writes in place over intermediates it reads for the last time", "[vulkan]") {
  // The residual stream again, its operands now intermediates (two norms' results): the
  // group stores h over one and its result over the other, so the fused arena is no
  // larger than one kernel per op's. (Inputs are overwritten the same way: above.)
  constexpr std::int64_t seq = 13, model = 24;
  va::Graph g{"residual_in_place"};
  auto x = va::layer_norm_no_bias(g.input("x", {2, seq, model}), g.weight("gamma", {model}));
  auto a = va::rms_norm(g.input("a", {2, seq, model}), g.weight("weight", {model}));
  auto h = va::add(x, a);
  auto gated = va::mul(va::relu(h), g.weight("gain", {model}));
  g.output("y", va::add(va::rms_norm(gated, g.weight("norm", {model})), h));
  const va::Schedule s = va::compile(g);
  INFO(va::schedule_listing(s));
  REQUIRE(fused_kernels(g) == std::vector<va::Kernel>{va::Kernel::layer_norm, va::Kernel::layer_norm,
                                                       va::Kernel::pointwise, va::Kernel::layer_norm,
                                                       va::Kernel::pointwise});
  // The group (dispatch 2) writes h and its result where x and a were.
  const va::Dispatch& group = s.dispatches[2];
  const va::TensorSlot& first = s.slots[std::size_t(s.dispatches[0].slots[0])];
  const va::TensorSlot& second = s.slots[std::size_t(s.dispatches[1].slots[0])];
  std::vector<std::int64_t> written;
  for (int binding = 0; binding < va::max_bindings; ++binding)
    if (group.slots[std::size_t(binding)] >= 0 && s.writes(group, binding))
      written.push_back(s.slots[std::size_t(group.slots[std::size_t(binding)])].offset);
  REQUIRE(written.size() == 2);
  std::sort(written.begin(), written.end());
  std::vector<std::int64_t> read{first.offset, second.offset};
  std::sort(read.begin(), read.end());
  CHECK(written == read);
  CHECK(s.arena_bytes <= va::compile(g, va::CompileOptions{.fuse = false}).arena_bytes);
  check_everywhere(g, 6);
}

TEST_CASE("a value read before the group's end stays a kernel of its own, and outputs of every type are stored", "[vulkan]") {
  SECTION("read before the top") {
    // m reads h before y, the group's top, runs: h cannot wait for y's kernel.
    va::Graph g{"read_before"};
    auto h = va::tanh(g.input("x", {2, 9, 6}));
    auto m = va::matmul(h, g.weight("w", {6, 6}), va::Transpose::b);
    g.output("y", va::mul(va::relu(h), m));
    const va::Schedule s = va::compile(g);
    INFO(va::schedule_listing(s));
    for (std::size_t i = 0; i < s.dispatch_count(); ++i) CHECK(further_outputs(s, i).empty());
    check_everywhere(g, 9);
  }
  SECTION("bool, i32, f16 and f32 outputs of one kernel") {
    va::Graph g{"typed_outputs"};
    auto x = g.input("x", {3, 5, 7}, va::DType::f16);
    auto wide = va::scale(va::cast(x, va::DType::f32), 2.0);
    auto positive = wide > 0.0;
    g.output("positive", positive);
    g.output("count", va::cast(positive, va::DType::i32));
    g.output("wide", wide);
    g.output("y", va::where(positive, va::cast(wide, va::DType::f16), x));
    const va::Schedule s = va::compile(g);
    INFO(va::schedule_listing(s));
    REQUIRE(s.dispatch_count() == 1);
    CHECK(further_outputs(s, 0).size() == 3);
    const va::TensorMap rounded = va::testing::rounded_to_f16(va::random_bindings(g, 13));
    check_schedule_on_device(g, true, rounded, f16_tolerance);
    check_schedule_on_device(g, false, rounded, f16_tolerance);
    check_schedule_on_device(g, true, rounded, f16_tolerance, true);
  }
  SECTION("more values than one kernel stores") {
    // Six values of one chain are outputs: four ride with the top, the rest are stored
    // by kernels of their own.
    va::Graph g{"many_outputs"};
    va::Value v = g.input("x", {4, 13});
    const char* names[] = {"o0", "o1", "o2", "o3", "o4", "o5"};
    for (int i = 0; i < 6; ++i) {
      v = i % 2 == 0 ? va::sigmoid(va::scale(v, 1.5)) : va::add(v, g.constant(0.25));
      g.output(names[i], v);
    }
    g.output("y", va::tanh(v));
    const va::Schedule s = va::compile(g);
    INFO(va::schedule_listing(s));
    std::size_t stored = 0;
    for (std::size_t i = 0; i < s.dispatch_count(); ++i) stored += further_outputs(s, i).size();
    CHECK(further_outputs(s, s.dispatch_count() - 1).size() == va::max_expression_outputs);
    CHECK(s.dispatch_count() + stored == 7);  // each output stored once
    check_everywhere(g, 17);
  }
}

TEST_CASE("RMSNorm written from primitives is two GEMMs: statistics, then the normalisation as a prologue", "[vulkan]") {
  // rstd = (mean(x²) + eps)^-1/2 as a product with a [1, K] weight (x² its prologue,
  // the rest its epilogue); y = (x * rstd * w) · Wᵀ, the normalisation as A is loaded.
  constexpr std::int64_t seq = 13, model = 37, out = 70;  // N > 64: the texel GEMM declines
  va::Graph g{"rms_from_primitives"};
  auto x = g.input("x", {2, seq, model});
  auto sum = va::matmul(va::mul(x, x), g.weight("reduce", {1, model}), va::Transpose::b);
  auto mean = va::add(va::scale(va::abs(sum), 1.0 / double(model)), g.constant(1e-5));
  auto rstd = va::exp(va::scale(va::log(mean), -0.5));
  auto normed = va::mul(va::mul(x, rstd), g.weight("gain", {model}));
  g.output("y", va::matmul(normed, g.weight("w", {out, model}), va::Transpose::b));
  const va::Schedule s = va::compile(g);
  INFO(va::schedule_listing(s));
  REQUIRE(fused_kernels(g) == std::vector<va::Kernel>{va::Kernel::gemm, va::Kernel::gemm});
  const va::Expression& statistics = s.programs[std::size_t(s.dispatches[0].program)];
  const va::Expression& normalise = s.programs[std::size_t(s.dispatches[1].program)];
  CHECK(va::expression_text(statistics, statistics.prologue) == "(a * a)");
  CHECK(va::expression_text(normalise, normalise.prologue) == "((a * t0) * t1)");
  CHECK(normalise.value < 0);  // no epilogue: the product as it is
  CHECK(va::schedule_from_json(va::schedule_to_json(s)).programs == s.programs);
  va::check_schedule(s);
  // The texel GEMM (lavapipe's) declines the normalisation prologue, saying why: the
  // normalisation is one generated kernel before the product.
  const va::Schedule texel = va::compile(g, va::targets::llvmpipe);
  CHECK(texel.dispatch_count() == 3);  // the statistics (N = 1) keep theirs
  REQUIRE(texel.remarks.size() == 1);
  CHECK_THAT(std::string(texel.remarks[0].text.view()), Catch::Matchers::Contains("the texel GEMM reloads A per 64 columns"));
  check_everywhere(g, 21);
}

TEST_CASE("a prologue is declined where A is read elsewhere or broadcast over the product's batch", "[vulkan]") {
  constexpr std::int64_t seq = 6, k = 9, n = 11;
  {
    va::Graph g{"a_read_twice"};
    auto x = g.input("x", {2, seq, k});
    auto a = va::silu(x);
    g.output("y", va::matmul(a, g.weight("w", {n, k}), va::Transpose::b));
    g.output("a", a);  // an output: A must reach memory
    const va::Schedule s = va::compile(g);
    INFO(va::schedule_listing(s));
    CHECK(fused_kernels(g) == std::vector<va::Kernel>{va::Kernel::pointwise, va::Kernel::gemm});
    check_everywhere(g, 31);
  }
  {
    va::Graph g{"a_broadcast"};
    auto a = va::scale(va::tanh(g.input("x", {seq, k})), 0.5);  // [S, K] against B [2, K, N]
    g.output("y", va::matmul(a, g.input("b", {2, k, n})));
    const va::Schedule s = va::compile(g);
    INFO(va::schedule_listing(s));
    CHECK(fused_kernels(g) == std::vector<va::Kernel>{va::Kernel::pointwise, va::Kernel::gemm});
    check_everywhere(g, 32);
  }
}
