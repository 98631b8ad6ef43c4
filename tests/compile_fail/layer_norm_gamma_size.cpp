// LayerNorm parameters sized for the wrong dimension.
#include <vkattn/vkattn.hpp>
namespace va = vkattn;

constexpr va::Graph graph() {
  va::Graph g{"norm"};
  auto x = g.input("x", {1, 128, 512});
  auto gamma = g.weight("ln.gamma", {256});
  auto beta = g.weight("ln.beta", {512});
  g.output("y", va::layer_norm(x, gamma, beta));  // error: this line
  return g;
}

constexpr auto plan = va::freeze<graph>();
// expect: layer_norm: gamma has shape [256] but the normalised (last) dimension of [1, 128, 512] is 512
