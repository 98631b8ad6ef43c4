// compile<fn>() of a graph that marks no output: the same kind of message as a shape error.
#include <vkattn/vkattn.hpp>
namespace va = vkattn;

constexpr va::Graph graph() {
  va::Graph g{"silent"};
  auto x = g.input("x", {1, 16, 64});
  va::softmax(x);
  return g;
}

constexpr auto plan = va::compile<graph>();
// expect: graph `silent` has no outputs: mark a value with Graph::output(name, value)
// reject: non-‘constexpr’ function
// reject: non-constexpr function
// reject: compile_failure
