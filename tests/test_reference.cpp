// The CPU reference against values computed by hand.
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <vkattn/host_memory.hpp>
#include <vkattn/reference.hpp>
#include <vkattn/vkattn.hpp>

namespace va = vkattn;

namespace {

constexpr double inf = std::numeric_limits<double>::infinity();

va::Tensor tensor(va::Shape shape, std::vector<double> values, va::DType dtype = va::DType::f32) {
  va::Tensor t = va::Tensor::zeros(shape, dtype);
  REQUIRE(values.size() == t.values.size());
  t.values = std::move(values);
  return t;
}

// Evaluates `build(g)` (which returns the value to check) with the given bindings.
template <typename Build>
va::Tensor evaluate(Build build, const va::TensorMap& bindings) {
  va::Graph g{"test"};
  g.output("out", build(g));
  return va::run_reference(g, bindings).outputs.at("out");
}

void check_values(const va::Tensor& actual, const std::vector<double>& expected, double margin = 1e-3) {
  REQUIRE(actual.values.size() == expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    INFO("element " << i);
    if (std::isinf(expected[i]))
      CHECK(actual.values[i] == expected[i]);
    else
      CHECK(actual.values[i] == Approx(expected[i]).margin(margin));
  }
}

// 1 where the score survived the mask, 0 where it became -inf.
std::vector<int> pattern(const va::Tensor& masked) {
  std::vector<int> attend;
  for (double v : masked.values) attend.push_back(v == -inf ? 0 : 1);
  return attend;
}

}  // namespace

TEST_CASE("softmax([1, 2, 3, 4])") {
  auto y = evaluate([](va::Graph& g) { return va::softmax(g.input("x", {4})); }, {{"x", tensor({4}, {1, 2, 3, 4})}});
  check_values(y, {0.032, 0.087, 0.237, 0.644});
  double sum = 0;
  for (double v : y.values) sum += v;
  CHECK(sum == Approx(1.0).epsilon(1e-12));
}

TEST_CASE("the weighted sum [0.1, 0.2, 0.3, 0.4] . [1, 2, 3, 4] = 3") {
  auto y = evaluate([](va::Graph& g) { return va::matmul(g.input("p", {1, 4}), g.input("v", {4, 1})); },
                    {{"p", tensor({1, 4}, {0.1, 0.2, 0.3, 0.4})}, {"v", tensor({4, 1}, {1, 2, 3, 4})}});
  check_values(y, {3.0}, 1e-12);
}

TEST_CASE("LayerNorm([1, 2, 3, 4]) uses the population variance") {
  auto y = evaluate([](va::Graph& g) { return va::layer_norm(g.input("x", {4}), g.weight("gamma", {4}), g.weight("beta", {4}), 1e-12); },
                    {{"x", tensor({4}, {1, 2, 3, 4})}, {"gamma", tensor({4}, {1, 1, 1, 1})}, {"beta", tensor({4}, {0, 0, 0, 0})}});
  // mean 2.5, variance 1.25 (divided by n = 4; dividing by n - 1 would give +-1.162 / 0.387)
  check_values(y, {-1.342, -0.447, 0.447, 1.342});
  auto affine = evaluate([](va::Graph& g) { return va::layer_norm(g.input("x", {1, 2}), g.weight("gamma", {2}), g.weight("beta", {2})); },
                         {{"x", tensor({1, 2}, {0, 2})}, {"gamma", tensor({2}, {2, 3})}, {"beta", tensor({2}, {10, 20})}});
  double normalised = 1.0 / std::sqrt(1.0 + 1e-5);
  check_values(affine, {10 - 2 * normalised, 20 + 3 * normalised}, 1e-12);
}

TEST_CASE("matmul: transposed operand and broadcast batch dimensions") {
  auto a = tensor({2, 1, 2}, {1, 2, 3, 4});            // two batches of [1, 2]
  auto b = tensor({3, 2}, {1, 0, 0, 1, 1, 1});         // [N = 3, K = 2], used transposed
  auto y = evaluate([](va::Graph& g) { return va::matmul(g.input("a", {2, 1, 2}), g.input("b", {3, 2}), va::Transpose::b); },
                    {{"a", a}, {"b", b}});
  check_values(y, {1, 2, 3, 3, 4, 7}, 1e-12);
}

TEST_CASE("add broadcasts, scale multiplies, relu and gelu") {
  auto y = evaluate([](va::Graph& g) { return va::add(g.input("x", {2, 3}), g.input("b", {3})) * 2.0; },
                    {{"x", tensor({2, 3}, {1, 2, 3, 4, 5, 6})}, {"b", tensor({3}, {10, 20, 30})}});
  check_values(y, {22, 44, 66, 28, 50, 72}, 1e-12);
  auto column = evaluate([](va::Graph& g) { return va::add(g.input("x", {2, 3}), g.input("b", {2, 1})); },
                         {{"x", tensor({2, 3}, {1, 2, 3, 4, 5, 6})}, {"b", tensor({2, 1}, {100, 200})}});
  check_values(column, {101, 102, 103, 204, 205, 206}, 1e-12);
  va::TensorMap x{{"x", tensor({4}, {-2, -0.5, 0.5, 2})}};
  check_values(evaluate([](va::Graph& g) { return va::relu(g.input("x", {4})); }, x), {0, 0, 0.5, 2}, 1e-12);
  // GELU(x) = x * Phi(x): Phi(2) = 0.97725, Phi(0.5) = 0.69146
  check_values(evaluate([](va::Graph& g) { return va::gelu(g.input("x", {4})); }, x),
               {-2 * (1 - 0.97725), -0.5 * (1 - 0.69146), 0.5 * 0.69146, 2 * 0.97725}, 1e-4);
}

TEST_CASE("mul broadcasts, and silu, gelu_tanh and rms_norm by their formulas") {
  auto product = evaluate([](va::Graph& g) { return va::mul(g.input("x", {2, 3}), g.input("b", {2, 1})); },
                          {{"x", tensor({2, 3}, {1, 2, 3, 4, 5, 6})}, {"b", tensor({2, 1}, {10, -1})}});
  check_values(product, {10, 20, 30, -4, -5, -6}, 1e-12);
  va::TensorMap x{{"x", tensor({4}, {-2, -0.5, 0.5, 2})}};
  // silu(v) = v / (1 + e^-v): sigmoid(2) = 0.880797, sigmoid(0.5) = 0.622459
  check_values(evaluate([](va::Graph& g) { return va::silu(g.input("x", {4})); }, x),
               {-2 * (1 - 0.880797), -0.5 * (1 - 0.622459), 0.5 * 0.622459, 2 * 0.880797}, 1e-6);
  // gelu_tanh(2) = 0.5 * 2 * (1 + tanh(0.797885 * (2 + 0.35772))) = 1.954598
  check_values(evaluate([](va::Graph& g) { return va::gelu_tanh(g.input("x", {4})); }, x),
               {-2 + 1.954598, -0.154286, 0.345714, 1.954598}, 1e-5);
  // rms of (3, 4) is sqrt(12.5); weights 1 and 2.
  auto normed = evaluate([](va::Graph& g) { return va::rms_norm(g.input("x", {1, 2}), g.weight("w", {2}), 1e-12); },
                         {{"x", tensor({1, 2}, {3, 4})}, {"w", tensor({2}, {1, 2})}});
  check_values(normed, {3 / std::sqrt(12.5), 8 / std::sqrt(12.5)}, 1e-9);
}

TEST_CASE("split_heads and merge_heads move exactly the elements they say") {
  // x[b, s, h * D + d] with B = 1, S = 2, H = 2, D = 3: values 0..11 in order.
  std::vector<double> values(12);
  for (int i = 0; i < 12; ++i) values[std::size_t(i)] = i;
  va::TensorMap x{{"x", tensor({1, 2, 6}, values)}};
  auto heads = evaluate([](va::Graph& g) { return va::split_heads(g.input("x", {1, 2, 6}), 2); }, x);
  CHECK(heads.shape == va::Shape{1, 2, 2, 3});
  // head 0: s0 -> 0,1,2; s1 -> 6,7,8. head 1: s0 -> 3,4,5; s1 -> 9,10,11
  check_values(heads, {0, 1, 2, 6, 7, 8, 3, 4, 5, 9, 10, 11}, 0);
  auto round_trip = evaluate([](va::Graph& g) { return va::merge_heads(va::split_heads(g.input("x", {1, 2, 6}), 2)); }, x);
  check_values(round_trip, values, 0);
  auto repeated = evaluate([](va::Graph& g) { return va::repeat_heads(va::split_heads(g.input("x", {1, 2, 6}), 2), 2); }, x);
  check_values(repeated, {0, 1, 2, 6, 7, 8, 0, 1, 2, 6, 7, 8, 3, 4, 5, 9, 10, 11, 3, 4, 5, 9, 10, 11}, 0);
  auto permuted = evaluate([](va::Graph& g) { return va::permute(g.input("x", {1, 2, 6}), {2, 0, 1}); }, x);
  CHECK(permuted.shape == va::Shape{6, 1, 2});
  check_values(permuted, {0, 6, 1, 7, 2, 8, 3, 9, 4, 10, 5, 11}, 0);
}

TEST_CASE("causal mask patterns, aligned top-left and bottom-right") {
  va::TensorMap zeros{{"s", va::Tensor::zeros({3, 5})}};
  auto top_left = evaluate([](va::Graph& g) { return va::causal_mask(g.input("s", {3, 5})); }, zeros);
  CHECK(pattern(top_left) == std::vector<int>{1, 0, 0, 0, 0,
                                              1, 1, 0, 0, 0,
                                              1, 1, 1, 0, 0});
  auto bottom_right = evaluate([](va::Graph& g) { return va::causal_mask(g.input("s", {3, 5}), va::CausalAlign::bottom_right); }, zeros);
  CHECK(pattern(bottom_right) == std::vector<int>{1, 1, 1, 0, 0,
                                                  1, 1, 1, 1, 0,
                                                  1, 1, 1, 1, 1});
}

TEST_CASE("sliding window mask pattern") {
  va::TensorMap zeros{{"s", va::Tensor::zeros({4, 4})}};
  auto window = evaluate([](va::Graph& g) { return va::sliding_window_mask(g.input("s", {4, 4}), 2); }, zeros);
  CHECK(pattern(window) == std::vector<int>{1, 1, 0, 0,
                                            1, 1, 1, 0,
                                            0, 1, 1, 1,
                                            0, 0, 1, 1});
  auto one_sided = evaluate([](va::Graph& g) { return va::causal_mask(va::sliding_window_mask(g.input("s", {4, 4}), 2)); }, zeros);
  CHECK(pattern(one_sided) == std::vector<int>{1, 0, 0, 0,
                                               1, 1, 0, 0,
                                               0, 1, 1, 0,
                                               0, 0, 1, 1});
}

TEST_CASE("padding mask hides keys past each sequence's length") {
  va::TensorMap bindings{{"s", va::Tensor::zeros({2, 2, 4})}, {"lengths", tensor({2}, {3, 1}, va::DType::i32)}};
  auto y = evaluate([](va::Graph& g) { return va::padding_mask(g.input("s", {2, 2, 4}), g.input("lengths", {2}, va::DType::i32)); }, bindings);
  CHECK(pattern(y) == std::vector<int>{1, 1, 1, 0, 1, 1, 1, 0,
                                       1, 0, 0, 0, 1, 0, 0, 0});
}

TEST_CASE("boolean masks attend where nonzero, and additive masks add") {
  va::TensorMap bindings{{"s", tensor({2, 2}, {1, 2, 3, 4})}, {"m", tensor({2}, {0, 1})}};
  auto boolean = evaluate([](va::Graph& g) { return va::boolean_mask(g.input("s", {2, 2}), g.input("m", {2})); }, bindings);
  check_values(boolean, {-inf, 2, -inf, 4}, 0);
  auto additive = evaluate([](va::Graph& g) { return va::additive_mask(g.input("s", {2, 2}), g.input("m", {2})); }, bindings);
  check_values(additive, {1, 3, 3, 5}, 0);
}

TEST_CASE("a query whose every key is masked gets zeros, never NaN") {
  // lengths 0: no key is valid for batch entry 1. Row 0 of a top-left causal mask over
  // 3 queries and 3 keys keeps key 0; a boolean mask then removes it too.
  va::TensorMap bindings{{"s", va::Tensor::random({2, 3, 3}, 7)},
                         {"lengths", tensor({2}, {3, 0}, va::DType::i32)},
                         {"v", va::Tensor::random({2, 3, 2}, 8)}};
  auto context = evaluate([](va::Graph& g) {
    auto p = va::softmax(va::padding_mask(g.input("s", {2, 3, 3}), g.input("lengths", {2}, va::DType::i32)));
    return va::matmul(p, g.input("v", {2, 3, 2}));
  }, bindings);
  for (std::size_t i = 0; i < context.values.size(); ++i) CHECK_FALSE(std::isnan(context.values[i]));
  check_values(va::Tensor{context.shape, context.dtype, {context.values.begin() + 6, context.values.end()}},
               {0, 0, 0, 0, 0, 0}, 0);
  auto probabilities = evaluate([](va::Graph& g) { return va::softmax(g.input("s", {1, 3})); },
                                {{"s", tensor({1, 3}, {-inf, -inf, -inf})}});
  check_values(probabilities, {0, 0, 0}, 0);
}

TEST_CASE("missing or mis-shaped bindings are named") {
  va::Graph g{"bindings"};
  g.output("y", va::relu(g.input("x", {2, 3})));
  CHECK_THROWS_WITH(va::run_reference(g, {}), "no tensor was given for input 'x' [2, 3]");
  CHECK_THROWS_WITH(va::run_reference(g, {{"x", va::Tensor::zeros({3, 2})}}),
                    "input 'x' is declared [2, 3] but the tensor given has shape [3, 2]");
}

TEST_CASE("normalised_error is relative, ignores matching infinities and flags unwritten elements") {
  va::Tensor reference = tensor({4}, {3, 4, -inf, 0});
  va::Tensor device = tensor({4}, {3, 4, -inf, 0.5});
  CHECK(va::normalised_error(device, reference) == Approx(0.1));
  CHECK(va::normalised_error(reference, reference) == 0);
  device.values[3] = std::nan("");
  CHECK(std::isnan(va::normalised_error(device, reference)));
  device.values[3] = 0;
  device.values[2] = inf;
  CHECK(std::isnan(va::normalised_error(device, reference)));
  CHECK(std::isnan(va::normalised_error(tensor({2}, {1, 2}), tensor({1, 2}, {1, 2}))));
}

TEST_CASE("random tensors and the reference are checked against host memory before they are made") {
  // 2^40 weights are 8 TiB of doubles: refused by name before any allocation.
  va::Graph g{"huge"};
  auto x = g.input("x", {1, 4, 1048576});
  g.output("y", va::matmul(x, g.weight("proj.weight", {1048576, 1048576}), va::Transpose::b));
  REQUIRE(va::available_host_bytes() > 0);
  CHECK_THROWS_AS(va::random_bindings(g, 1), va::HostMemoryError);
  CHECK_THROWS_WITH(va::random_bindings(g, 1), Catch::Contains("weight 'proj.weight' [1048576, 1048576]") &&
                                                   Catch::Contains("of host memory, more than the") &&
                                                   Catch::Contains("available (MemAvailable"));
  CHECK_THROWS_WITH(va::run_reference(g, {}), Catch::Contains("the CPU reference of 'huge'") &&
                                                  Catch::Contains("of host memory"));
  CHECK(va::byte_size_text(3) == "3 bytes");
  CHECK(va::byte_size_text(std::uint64_t(3) << 30) == "3.0 GiB");
}
