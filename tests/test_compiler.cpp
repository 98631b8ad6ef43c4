// The compiler's passes, without a device: what fuses into what, that attention
// written by hand from primitives compiles like the helper, that an intermediate asked
// for as an output stays materialised, and that the memory plan never overlaps two
// values that are live at once (but for a kernel writing in place over what it last reads).
#include <catch2/catch.hpp>
#include <random>
#include <vkattn/codegen/render.hpp>
#include <vkattn/schedule_text.hpp>
#include <vkattn/vkattn.hpp>

namespace va = vkattn;

namespace {

// In place: a generated elementwise kernel writes `written` over `read` at the same
// offset, reading it there for the last time (pass_plan_memory.hpp).
bool in_place(const va::Schedule& s, const va::TensorSlot& read, const va::TensorSlot& written) {
  if (read.offset != written.offset || read.bytes != written.bytes || read.live_to != written.live_from ||
      written.live_from < 0)
    return false;
  const va::Dispatch& d = s.dispatches[std::size_t(written.live_from)];
  bool reads = false, writes = false;
  for (int binding = 0; binding < va::max_bindings; ++binding) {
    if (d.slots[std::size_t(binding)] < 0) continue;
    const va::TensorSlot& bound = s.slots[std::size_t(d.slots[std::size_t(binding)])];
    reads = reads || (&bound == &read && !s.writes(d, binding));
    writes = writes || (&bound == &written && s.writes(d, binding));
  }
  return d.kernel == va::Kernel::pointwise && reads && writes;
}

std::vector<va::Kernel> kernels(const va::Schedule& s) {
  std::vector<va::Kernel> k;
  for (const va::Dispatch& d : s.dispatches) k.push_back(d.kernel);
  return k;
}

// x -> multi-head attention -> + x -> LayerNorm (PyTorch's post-norm block).
va::Graph attention_block(std::int64_t seq, std::int64_t model, std::int64_t heads) {
  va::Graph g{"attention_block"};
  auto x = g.input("x", {1, seq, model});
  auto a = va::multi_head_attention(g, x, x, x, {.heads = heads});
  g.output("y", va::layer_norm(g, x + a, "norm1"));
  return g;
}

// The same block from primitives, with its own names.
va::Graph attention_block_by_hand(std::int64_t seq, std::int64_t model, std::int64_t heads) {
  va::Graph g{"by_hand"};
  auto x = g.input("x", {1, seq, model});
  auto project = [&](const char* name) {
    std::string w_name = name, b_name = name;  // appended: g++ 12 misreports operator+ on strings
    w_name += "_w";
    b_name += "_b";
    auto w = g.weight(w_name, {model, model});
    auto b = g.weight(b_name, {model});
    return va::add(va::matmul(x, w, va::Transpose::b), b);
  };
  auto q = va::split_heads(project("q"), heads);
  auto k = va::split_heads(project("k"), heads);
  auto v = va::split_heads(project("v"), heads);
  auto scores = va::scale(va::matmul(q, k, va::Transpose::b), 1.0 / std::sqrt(double(model / heads)));
  auto context = va::merge_heads(va::matmul(va::softmax(scores), v));
  // Weights declared one per statement, so they are declared in this order.
  auto o_w = g.weight("o_w", {model, model});
  auto o_b = g.weight("o_b", {model});
  auto out = va::add(va::matmul(context, o_w, va::Transpose::b), o_b);
  auto gamma = g.weight("gamma", {model});
  auto beta = g.weight("beta", {model});
  g.output("y", va::layer_norm(va::add(out, x), gamma, beta));
  return g;
}

// What identifies a dispatch apart from names: kernel, constants, launch, cost.
bool same_dispatches(const va::Schedule& a, const va::Schedule& b) {
  if (a.dispatches.size() != b.dispatches.size()) return false;
  for (std::size_t i = 0; i < a.dispatches.size(); ++i) {
    const va::Dispatch& x = a.dispatches[i];
    const va::Dispatch& y = b.dispatches[i];
    if (x.kernel != y.kernel || !(x.push_constants == y.push_constants) || !(x.specialization == y.specialization) ||
        x.workgroups != y.workgroups || x.flops != y.flops || x.bytes != y.bytes || x.access != y.access ||
        x.barrier_after != y.barrier_after || x.covers.size() != y.covers.size())
      return false;
    // Bindings: the same places in the same buffers (slot numbering may differ).
    for (int binding = 0; binding < va::max_bindings; ++binding) {
      int sx = x.slots[std::size_t(binding)], sy = y.slots[std::size_t(binding)];
      if ((sx < 0) != (sy < 0)) return false;
      if (sx < 0) continue;
      const va::TensorSlot& tx = a.slots[std::size_t(sx)];
      const va::TensorSlot& ty = b.slots[std::size_t(sy)];
      if (tx.storage != ty.storage || tx.offset != ty.offset || tx.bytes != ty.bytes || !(tx.shape == ty.shape))
        return false;
    }
  }
  return a.memory == b.memory && a.arena_bytes == b.arena_bytes && a.weight_bytes == b.weight_bytes;
}

}  // namespace

TEST_CASE("the post-norm attention block is QKV GEMM, flash attention, output GEMM with residual, LayerNorm") {
  va::Graph g = attention_block(128, 64, 4);
  va::Schedule s = va::compile(g);
  using K = va::Kernel;
  CHECK(kernels(s) == std::vector<K>{K::gemm, K::flash_attention, K::gemm, K::layer_norm});
  // The QKV GEMM reads one packed weight of the three projections.
  const va::TensorSlot& packed = s.slots[std::size_t(s.dispatches[0].slots[2])];
  REQUIRE(packed.parts.size() == 3);
  CHECK(packed.parts[0].name.view() == "self_attn.q_proj.weight");
  CHECK(packed.parts[2].name.view() == "self_attn.v_proj.weight");
  CHECK(packed.shape == va::Shape{192, 64});
  // The output projection's GEMM adds the bias and the residual.
  const auto& spec = s.dispatches[2].specialization;
  REQUIRE(s.dispatches[2].shader == va::Shader::gemm_tiled);
  const auto constants = va::constants_of<va::Shader::gemm_tiled>({spec.data(), spec.size()});
  CHECK(constants.HAS_BIAS == 1);
  REQUIRE(s.dispatches[2].program >= 0);
  const va::Expression& epilogue = s.programs[std::size_t(s.dispatches[2].program)];
  CHECK(va::expression_text(epilogue, epilogue.value) == "(t0 + acc)");
  CHECK(epilogue.tensors.size() == 1);
  // Unfused, the same graph is one dispatch per op.
  CHECK(va::lower_unfused(g).dispatch_count() > 15);
}

TEST_CASE("attention written by hand from primitives compiles to the helper's schedule") {
  va::Schedule helper = va::compile(attention_block(77, 48, 6));
  va::Schedule by_hand = va::compile(attention_block_by_hand(77, 48, 6));
  INFO(va::schedule_listing(helper) << "\n" << va::schedule_listing(by_hand));
  CHECK(same_dispatches(helper, by_hand));
}

TEST_CASE("an intermediate asked for as an output stays materialised") {
  va::Graph g{"with_probabilities"};
  auto x = g.input("x", {1, 16, 32});
  g.output("y", va::multi_head_attention(g, x, x, x, {.heads = 4}));
  g.output("probabilities", g.find("self_attn.probs"));
  va::Schedule s = va::compile(g);
  auto k = kernels(s);
  CHECK(std::find(k.begin(), k.end(), va::Kernel::flash_attention) == k.end());
  CHECK(std::find(k.begin(), k.end(), va::Kernel::softmax) != k.end());
  CHECK(s.find_slot("probabilities", va::SlotRole::output) >= 0);
}

TEST_CASE("canonicalize removes dead code and common subexpressions and folds scales") {
  va::Graph g{"canonical"};
  auto x = g.input("x", {4, 8});
  auto unused = va::relu(x);
  (void)unused;
  auto a = va::scale(va::scale(x, 2.0), 3.0);
  auto b = va::scale(va::scale(x, 2.0), 3.0);  // the same expression again
  g.output("y", va::add(a, b));
  va::Schedule s = va::compile(g, va::CompileOptions{.fuse = false});
  using K = va::Kernel;
  CHECK(kernels(s) == std::vector<K>{K::pointwise, K::pointwise});
  const va::Expression& scaled = s.programs[std::size_t(s.dispatches[0].program)];
  CHECK(va::expression_text(scaled, scaled.value) == "(t0 * 6)");
}

TEST_CASE("silu and gelu_tanh ride on the GEMM, and rms_norm takes its residual") {
  using K = va::Kernel;
  {
    va::Graph g{"modern"};
    auto x = g.input("x", {9, 16});
    auto h = va::gelu_tanh(va::linear(x, g.weight("w1", {32, 16}), g.weight("b1", {32})));
    auto y = va::silu(va::linear(h, g.weight("w2", {16, 32})));
    g.output("y", va::rms_norm(y + x, g.weight("norm.weight", {16})));
    va::Schedule s = va::compile(g);
    REQUIRE(kernels(s) == std::vector<K>{K::gemm, K::gemm, K::layer_norm});
    // Each activation rides its GEMM's epilogue, and the residual the second's.
    REQUIRE(s.dispatches[0].program >= 0);
    REQUIRE(s.dispatches[1].program >= 0);
    const va::Expression& first = s.programs[std::size_t(s.dispatches[0].program)];
    const va::Expression& second = s.programs[std::size_t(s.dispatches[1].program)];
    CHECK(va::expression_text(first, first.value) == "gelu_tanh(acc)");
    CHECK(va::expression_text(second, second.value) == "(silu(acc) + t0)");
    const auto& spec = s.dispatches[2].specialization;
    const auto norm = va::constants_of<va::Shader::layer_norm>({spec.data(), spec.size()});
    CHECK(norm.RMS == 1);
    CHECK(norm.HAS_RESIDUAL == 0);
    va::Schedule unfused = va::compile(g, va::CompileOptions{.fuse = false});
    CHECK(unfused.dispatch_count() == 7);  // two gemms, the bias, two activations, the add, the norm
  }
  {
    // A sum no GEMM produces: the norm reads both terms.
    va::Graph g{"norm_residual"};
    auto x = g.input("x", {9, 16});
    auto r = g.input("r", {9, 16});
    g.output("y", va::rms_norm(va::mul(x, x) + r, g.weight("norm.weight", {16})));
    va::Schedule s = va::compile(g);
    REQUIRE(kernels(s).back() == K::layer_norm);
    const auto& spec = s.dispatches.back().specialization;
    const auto norm = va::constants_of<va::Shader::layer_norm>({spec.data(), spec.size()});
    CHECK(norm.RMS == 1);
    CHECK(norm.HAS_RESIDUAL == 1);
    CHECK(s.dispatch_count() == 2);
  }
}

TEST_CASE("barriers only between dependent dispatches") {
  va::Graph g{"independent"};
  auto x = g.input("x", {64, 32});
  auto a = va::softmax(x);
  auto b = va::rms_norm(x, g.weight("w", {32}));
  g.output("a", a);
  g.output("b", b);
  g.output("c", a + b);
  va::Schedule s = va::compile(g);
  REQUIRE(s.dispatch_count() == 3);
  CHECK_FALSE(s.dispatches[0].barrier_after);  // the softmax and the norm both read x only
  CHECK(s.dispatches[1].barrier_after);        // the add reads both
}

TEST_CASE("a barrier follows a kernel whose further output a later dispatch reads") {
  va::Graph g{"further"};
  auto h = va::relu(g.input("x", {16, 8}));
  g.output("y", va::scale(h, 2.0));
  g.output("z", va::softmax(h));  // reads h only, which the first kernel writes at binding 8
  va::Schedule s = va::compile(g);
  REQUIRE(s.dispatch_count() == 2);
  REQUIRE(s.programs[std::size_t(s.dispatches[0].program)].outputs.size() == 1);
  CHECK(s.writes(s.dispatches[0], 8));
  CHECK_FALSE(s.writes(s.dispatches[0], 1));
  CHECK(s.dispatches[0].barrier_after);
  // h is live from the kernel that writes it to the softmax.
  const int h_slot = s.dispatches[0].slots[8];
  CHECK(s.slots[std::size_t(h_slot)].live_from == 0);
  CHECK(s.slots[std::size_t(h_slot)].live_to == 1);
}

TEST_CASE("memory plan: no two values live at the same time overlap, on random graphs") {
  std::mt19937_64 random(7);
  for (int trial = 0; trial < 60; ++trial) {
    va::Graph g{"random"};
    std::int64_t seq = 1 + std::int64_t(random() % 40), model = 8 * (1 + std::int64_t(random() % 4));
    std::vector<va::Value> values{g.input("x", {1, seq, model})};
    int weights = 0;
    auto weight_name = [&] {
      std::string name = "w";
      name += std::to_string(weights++);
      return name;
    };
    for (int op = 0; op < 12; ++op) {
      va::Value a = values[random() % values.size()], b = values[random() % values.size()];
      switch (random() % 6) {
        case 0: values.push_back(va::add(a, b)); break;
        case 1: values.push_back(va::relu(a)); break;
        case 2: values.push_back(va::scale(a, 0.5)); break;
        case 3: values.push_back(va::layer_norm(g, a, weight_name())); break;
        case 4: values.push_back(va::linear(g, a, weight_name(), model)); break;
        default: values.push_back(va::multi_head_attention(g, a, b, b, {.heads = 2, .prefix = weight_name()})); break;
      }
    }
    g.output("y", values.back());
    g.output("z", values[values.size() / 2 + 1]);
    for (bool fuse : {false, true}) {
      va::Schedule s = va::compile(g, va::CompileOptions{.fuse = fuse});
      INFO("trial " << trial << (fuse ? " fused" : " unfused") << "\n" << va::schedule_listing(s, &g));
      CHECK(s.memory.peak_bytes <= s.memory.naive_bytes);
      for (const va::TensorSlot& a : s.slots) {
        if (a.storage != va::Storage::arena) continue;
        CHECK(a.offset % va::slot_alignment == 0);
        CHECK(a.offset + a.bytes <= s.arena_bytes);
        for (const va::TensorSlot& b : s.slots) {
          if (&a == &b || b.storage != va::Storage::arena) continue;
          bool live_together = a.live_from <= b.live_to && b.live_from <= a.live_to;
          bool overlap = a.offset < b.offset + b.bytes && b.offset < a.offset + a.bytes;
          if (live_together && overlap && !in_place(s, a, b) && !in_place(s, b, a))
            FAIL_CHECK(a.name.view() << " and " << b.name.view() << " overlap while both live");
        }
      }
    }
  }
}

TEST_CASE("at seq 8192 the fused arena is O(seq x model), the unfused one O(seq^2)") {
  va::Graph g = attention_block(8192, 512, 8);
  va::Schedule fused = va::compile(g);
  va::Schedule unfused = va::lower_unfused(g);
  const std::int64_t activation = 8192 * 512 * 4;  // bytes of one [seq, model] f32 tensor
  CHECK(fused.arena_bytes <= 8 * activation);
  CHECK(unfused.arena_bytes >= std::int64_t(8) * 8192 * 8192 * 4);  // one score matrix per head
  WARN("seq 8192, model 512, 8 heads: fused arena " << fused.arena_bytes << " bytes, unfused " << unfused.arena_bytes
                                                    << " bytes (naive " << unfused.memory.naive_bytes << ")");
}

TEST_CASE("a graph the compiler cannot take gets an error naming the problem") {
  va::Graph g{"no_outputs"};
  g.input("x", {2, 2});
  CHECK_THROWS_WITH(va::compile(g), Catch::Contains("no outputs"));
}

TEST_CASE("a dispatch label too long for its 95 characters keeps whole names and ends with an ellipsis") {
  va::Graph g{"long_names"};
  auto x = g.input("x", {1, 8, 64});
  g.output("y", va::multi_head_attention(g, x, x, x,
                                         {.heads = 2, .mask = va::Mask::causal,
                                          .prefix = "model.decoder.layers.11.self_attention_block_with_long_name"}));
  bool found = false;
  for (const va::Dispatch& d : va::compile(g).dispatches) {
    if (d.kernel != va::Kernel::flash_attention) continue;
    found = true;
    const std::string label(d.label.view());
    INFO(label);
    CHECK_FALSE(d.label.truncated());
    CHECK(label.size() <= va::Name::capacity());
    CHECK(label.substr(label.size() - 4) == "\u2026}");
    // Every name before the ellipsis is one the attention covers, whole.
    const std::size_t open = label.find('{');
    REQUIRE(open != std::string::npos);
    std::string inside = label.substr(open + 1, label.size() - open - 5);
    for (std::size_t start = 0; start < inside.size();) {
      std::size_t comma = inside.find(',', start);
      if (comma == std::string::npos) comma = inside.size();
      const std::string item = inside.substr(start, comma - start);
      CHECK((item == "scores" || item == "scaled_scores" || item == "probs" || item == "context"));
      start = comma + 1;
    }
  }
  CHECK(found);
}

TEST_CASE("CompileOptions::tune_for names a dynamic dimension and a size within its bound") {
  va::Graph g{"tuned"};
  auto x = g.input("x", {1, va::dyn("seq", 64), 16});
  g.output("y", va::multi_head_attention(g, x, x, x, {.heads = 2}));
  auto tuned = [&](const char* name, std::int64_t size) {
    va::CompileOptions options;
    options.tune_for.push_back({name, size});
    return va::compile(g, options);
  };
  CHECK_NOTHROW(tuned("seq", 1));
  CHECK_NOTHROW(tuned("seq", 64));
  for (std::int64_t bad : {std::int64_t(0), std::int64_t(-1), std::int64_t(65), std::int64_t(1) << 40})
    CHECK_THROWS_WITH(tuned("seq", bad), Catch::Contains("CompileOptions::tune_for gives `seq` the size " + std::to_string(bad)) &&
                                             Catch::Contains("it must be 1 to its bound, 64"));
  CHECK_THROWS_WITH(tuned("len", 4), Catch::Contains("the graph has no dynamic dimension of that name"));
}
