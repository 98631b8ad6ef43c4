// The main example: a post-norm Transformer encoder layer written with the DSL,
// checked while the C++ compiles, then evaluated on random weights.
#include <cmath>
#include <cstdio>
#include <vkattn/reference.hpp>
#include <vkattn/vkattn.hpp>

namespace va = vkattn;

constexpr va::Graph encoder_layer(std::int64_t batch, std::int64_t seq, std::int64_t model) {
  va::Graph g{"encoder_layer"};
  auto x = g.input("x", {batch, seq, model});  // [batch, sequence, model]
  g.output("y", va::encoder_layer(g, x, {.heads = 8, .ffn_hidden = 4 * model, .mask = va::Mask::causal}));
  return g;
}

// Shape-checked at compile time: a mistake above is a compile error naming its line.
constexpr auto checked = va::freeze<[] { return encoder_layer(1, 128, 512); }>();
static_assert(checked.size() > 0);

int main() {
  va::Graph graph = encoder_layer(1, 64, 128);
  std::printf("graph '%s': %zu values\n", std::string(graph.name()).c_str(), graph.size());
  for (const va::Node& node : graph.nodes()) {
    if (node.op == va::Op::weight) continue;
    std::printf("  %-20s %-32s %s\n", std::string(va::op_name(node.op)).c_str(), node.name.c_str(),
                va::to_string(node.shape).c_str());
  }
  va::TensorMap bindings = va::random_bindings(graph, 1);
  va::ReferenceResult result = va::run_reference(graph, bindings);
  const va::Tensor& y = result.outputs.at("y");
  double sum = 0, sum_squares = 0;
  for (double v : y.values) {
    sum += v;
    sum_squares += v * v;
  }
  double mean = sum / double(y.size());
  std::printf("device: CPU reference (double precision)\n");
  std::printf("output y %s: mean %.4f, std %.4f (LayerNorm output: about 0 and 1)\n", va::to_string(y.shape).c_str(),
              mean, std::sqrt(sum_squares / double(y.size()) - mean * mean));
}
