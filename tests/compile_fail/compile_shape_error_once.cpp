// compile<fn>() of a graph with a shape error: the error quotes the message, and no
// second error follows from compiling the broken graph.
#include <vkattn/vkattn.hpp>
namespace va = vkattn;

constexpr va::Graph graph() {
  va::Graph g{"broken"};
  auto x = g.input("x", {1, 16, 64});
  auto w = g.weight("w", {32, 48});
  g.output("y", va::matmul(x, w, va::Transpose::b));  // error: this line
  return g;
}

constexpr auto plan = va::compile<graph, va::targets::nvidia>();
// expect: matmul
// reject: non-‘constexpr’ function
// reject: non-constexpr function
// reject: compile_failure
