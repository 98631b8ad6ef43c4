#pragma once
// Graphs built while the C++ compiles. freeze<graph_fn>() evaluates a constexpr graph
// function, turns a recorded shape error into a compile error that quotes the
// message, and returns the graph as fixed-size data that can be a constexpr variable.
//
//   constexpr vkattn::Graph my_graph() { ... }
//   constexpr auto frozen = vkattn::freeze<my_graph>();
//   vkattn::Graph g = frozen.thaw();   // the same graph, usable at run time
#include <array>
#include <cstddef>
#include <string_view>

#include "vkattn/graph.hpp"

namespace vkattn {

template <std::size_t N>
struct FrozenGraph {
  Name name;
  std::array<Node, N> nodes{};

  static constexpr std::size_t size() { return N; }
  constexpr Graph thaw() const {
    Graph graph{name.view()};
    for (const Node& node : nodes) graph.append(node, node.where);
    return graph;
  }
};

namespace detail {

// A character array sized to the text, so the compiler prints it without padding.
template <std::size_t N>
struct ErrorText {
  char text[N]{};
};

template <auto GraphFn>
consteval std::size_t error_length() {
  return GraphFn().error().size();
}

template <auto GraphFn>
consteval auto error_text() {
  ErrorText<error_length<GraphFn>() + 1> result{};
  Graph graph = GraphFn();
  std::string_view message = graph.error();
  for (std::size_t i = 0; i < message.size(); ++i) result.text[i] = message[i];
  return result;
}

}  // namespace detail

// Instantiated with the message of a graph that failed its checks; the compiler
// prints the message as this template's argument.
template <detail::ErrorText Message>
struct graph_error {
  static_assert(Message.text[0] == '\0',
                "vkattn: the constexpr graph failed its shape check; the message is the graph_error argument above");
  static constexpr bool checked = true;
};

template <auto GraphFn>
consteval auto freeze() {
  static_assert(graph_error<detail::error_text<GraphFn>()>::checked);
  constexpr std::size_t count = GraphFn().size();
  FrozenGraph<count> frozen;
  Graph graph = GraphFn();
  frozen.name = Name{graph.name()};
  for (std::size_t i = 0; i < count; ++i) frozen.nodes[i] = graph.nodes()[i];
  return frozen;
}

}  // namespace vkattn
