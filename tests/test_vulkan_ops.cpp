// Every primitive op on the Vulkan device against the CPU reference, at sizes 1, 7,
// 33, 129 and >= 1000 along each of its axes.
#include <vkattn/vkattn.hpp>

#include "vulkan_harness.hpp"

namespace va = vkattn;
using va::testing::check_on_device;

namespace {

template <typename Build>
va::Graph graph_of(const char* name, Build build) {
  va::Graph g{name};
  g.output("out", build(g));
  return g;
}

}  // namespace

TEST_CASE("matmul on the device", "[vulkan]") {
  struct Size { std::int64_t m, k, n; };
  for (Size s : {Size{1, 1, 1}, Size{7, 33, 129}, Size{1000, 7, 33}, Size{33, 1000, 7}, Size{7, 33, 1000}, Size{129, 129, 129}}) {
    for (bool transposed : {false, true}) {
      INFO("M " << s.m << " K " << s.k << " N " << s.n << (transposed ? " (b transposed)" : ""));
      check_on_device(graph_of("matmul", [&](va::Graph& g) {
        auto a = g.input("a", {s.m, s.k});
        auto b = transposed ? g.input("b", {s.n, s.k}) : g.input("b", {s.k, s.n});
        return va::matmul(a, b, transposed ? va::Transpose::b : va::Transpose::none);
      }), 1);
    }
  }
}

TEST_CASE("batched matmul with broadcast batch dimensions", "[vulkan]") {
  check_on_device(graph_of("batched", [](va::Graph& g) { return va::matmul(g.input("a", {2, 3, 7, 33}), g.input("b", {33, 5})); }), 2);
  check_on_device(graph_of("broadcast", [](va::Graph& g) {
    return va::matmul(g.input("a", {2, 1, 7, 9}), g.input("b", {1, 3, 129, 9}), va::Transpose::b);
  }), 3);
  check_on_device(graph_of("rank3", [](va::Graph& g) { return va::matmul(g.input("a", {5, 7, 9}), g.input("b", {5, 9, 33})); }), 4);
}

TEST_CASE("add with broadcasting on the device", "[vulkan]") {
  check_on_device(graph_of("add", [](va::Graph& g) { return va::add(g.input("a", {1}), g.input("b", {1})); }), 5);
  check_on_device(graph_of("add", [](va::Graph& g) { return va::add(g.input("a", {7, 33}), g.input("b", {33})); }), 6);
  check_on_device(graph_of("add", [](va::Graph& g) { return va::add(g.input("a", {1000, 7}), g.input("b", {1000, 1})); }), 7);
  check_on_device(graph_of("add", [](va::Graph& g) { return va::add(g.input("a", {2, 3, 129, 7}), g.input("b", {3, 1, 7})); }), 8);
  check_on_device(graph_of("add", [](va::Graph& g) { return va::add(g.input("a", {1, 1, 1033}), g.input("b", {4, 1, 1})); }), 9);
}

TEST_CASE("scale and every activation on the device", "[vulkan]") {
  for (va::Shape shape : {va::Shape{1}, va::Shape{7, 33}, va::Shape{129, 1000}}) {
    check_on_device(graph_of("scale", [&](va::Graph& g) { return va::scale(g.input("x", shape), -0.37); }), 10);
    // Every activation of the one list (kernels/encodings.h), on x * 30: the tails,
    // where exp(-v) and the tanh of a cubic would overflow if written naively (GELU on
    // x * 3: its erf is accurate to 1.5e-7 absolute, not relative, far in the tail).
    for (va::Activation activation : va::all_activations) {
      if (activation == va::Activation::none) continue;
      INFO("activation " << va::activation_name(activation) << ", shape " << va::to_string(shape));
      check_on_device(graph_of(std::string(va::activation_name(activation)).c_str(), [&](va::Graph& g) {
                        return va::activate(g.input("x", shape) * (activation == va::Activation::gelu ? 3.0 : 30.0),
                                            activation);
                      }),
                      11 + std::uint64_t(activation));
    }
  }
}

TEST_CASE("mul with broadcasting on the device", "[vulkan]") {
  check_on_device(graph_of("mul", [](va::Graph& g) { return va::mul(g.input("a", {1}), g.input("b", {1})); }), 28);
  check_on_device(graph_of("mul", [](va::Graph& g) { return va::mul(g.input("a", {7, 33}), g.input("b", {33})); }), 29);
  check_on_device(graph_of("mul", [](va::Graph& g) { return va::mul(g.input("a", {2, 3, 129, 7}), g.input("b", {3, 1, 7})); }), 30);
}

TEST_CASE("rms_norm on the device", "[vulkan]") {
  struct Size { std::int64_t rows, n; };
  for (Size s : {Size{1, 1}, Size{7, 33}, Size{129, 7}, Size{1000, 129}, Size{33, 1000}}) {
    INFO("rows " << s.rows << " n " << s.n);
    check_on_device(graph_of("rms_norm", [&](va::Graph& g) {
      return va::rms_norm(g.input("x", {s.rows, s.n}) * 5.0, g.weight("w", {s.n}), 1e-6);
    }), 31);
  }
}

TEST_CASE("head split, merge, repeat and permute on the device", "[vulkan]") {
  struct Size { std::int64_t batch, seq, heads, head_dim; };
  for (Size s : {Size{1, 1, 1, 1}, Size{2, 7, 3, 11}, Size{1, 1000, 2, 7}, Size{1, 33, 1, 1000}, Size{3, 129, 4, 33}}) {
    INFO("batch " << s.batch << " seq " << s.seq << " heads " << s.heads << " head_dim " << s.head_dim);
    check_on_device(graph_of("split", [&](va::Graph& g) { return va::split_heads(g.input("x", {s.batch, s.seq, s.heads * s.head_dim}), s.heads); }), 13);
    check_on_device(graph_of("merge", [&](va::Graph& g) { return va::merge_heads(g.input("x", {s.batch, s.heads, s.seq, s.head_dim})); }), 14);
    check_on_device(graph_of("repeat", [&](va::Graph& g) { return va::repeat_heads(g.input("x", {s.batch, s.heads, s.seq, s.head_dim}), 3); }), 15);
    check_on_device(graph_of("permute", [&](va::Graph& g) { return va::permute(g.input("x", {s.batch, s.heads, s.seq, s.head_dim}), {2, 0, 3, 1}); }), 16);
  }
  check_on_device(graph_of("transpose", [](va::Graph& g) { return va::transpose(g.input("x", {33, 1000}), 0, 1); }), 17);
}

TEST_CASE("every mask kind on the device", "[vulkan]") {
  struct Size { std::int64_t batch, heads, queries, keys; };
  for (Size s : {Size{1, 1, 1, 1}, Size{2, 3, 7, 33}, Size{1, 2, 129, 7}, Size{2, 1, 1000, 9}, Size{1, 1, 7, 1000}}) {
    INFO("batch " << s.batch << " heads " << s.heads << " queries " << s.queries << " keys " << s.keys);
    va::Shape scores{s.batch, s.heads, s.queries, s.keys};
    for (auto align : {va::CausalAlign::top_left, va::CausalAlign::bottom_right}) {
      check_on_device(graph_of("causal", [&](va::Graph& g) { return va::causal_mask(g.input("s", scores), align); }), 18);
      check_on_device(graph_of("window", [&](va::Graph& g) { return va::sliding_window_mask(g.input("s", scores), 5, align); }), 19);
    }
    check_on_device(graph_of("padding", [&](va::Graph& g) { return va::padding_mask(g.input("s", scores), g.input("lengths", {s.batch}, va::DType::i32)); }), 20);
    check_on_device(graph_of("boolean", [&](va::Graph& g) { return va::boolean_mask(g.input("s", scores), va::relu(g.input("m", {s.batch, 1, s.queries, s.keys}))); }), 21);
    check_on_device(graph_of("additive", [&](va::Graph& g) { return va::additive_mask(g.input("s", scores), g.input("m", {s.queries, s.keys})); }), 22);
  }
}

TEST_CASE("softmax and layer_norm on the device, including fully masked rows", "[vulkan]") {
  struct Size { std::int64_t rows, n; };
  for (Size s : {Size{1, 1}, Size{7, 33}, Size{129, 7}, Size{1000, 129}, Size{33, 1000}}) {
    INFO("rows " << s.rows << " n " << s.n);
    check_on_device(graph_of("softmax", [&](va::Graph& g) { return va::softmax(g.input("x", {s.rows, s.n}) * 4.0); }), 23);
    check_on_device(graph_of("layer_norm", [&](va::Graph& g) {
      return va::layer_norm(g.input("x", {s.rows, s.n}), g.weight("gamma", {s.n}), g.weight("beta", {s.n}));
    }), 24);
  }
  // Causal with bottom-right alignment and more queries than keys masks whole rows.
  check_on_device(graph_of("masked_rows", [](va::Graph& g) {
    return va::softmax(va::causal_mask(g.input("s", {2, 9, 4}), va::CausalAlign::bottom_right));
  }), 25);
}
