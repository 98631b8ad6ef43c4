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
#include <utility>

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

// What stops the graph: its recorded shape error, or (NeedsOutputs: for a compile) the
// lack of any output. Empty when nothing does.
template <auto GraphFn, bool NeedsOutputs>
consteval Message graph_problem() {
  Graph graph = GraphFn();
  if (graph.failed()) return Message{graph.error()};
  if constexpr (NeedsOutputs) {
    for (const Node& node : graph.nodes())
      if (node.op == Op::output) return Message{};
    Message m;
    // Backticks, not apostrophes: g++ prints a compile-time message with \' for each.
    m << "graph `" << graph.name() << "` has no outputs: mark a value with Graph::output(name, value)";
    return m;
  }
  return Message{};
}

template <auto GraphFn, bool NeedsOutputs = false>
consteval std::size_t error_length() {
  return graph_problem<GraphFn, NeedsOutputs>().size();
}

template <auto GraphFn, bool NeedsOutputs = false>
consteval auto error_text() {
  ErrorText<error_length<GraphFn, NeedsOutputs>() + 1> result{};
  const Message message = graph_problem<GraphFn, NeedsOutputs>();
  for (std::size_t i = 0; i < message.size(); ++i) result.text[i] = message.view()[i];
  return result;
}

}  // namespace detail

// Instantiated with the message of a graph that failed its checks; the compiler
// prints the message as this template's argument. g++ prints the argument as a string;
// clang prints a character array as ten character codes and "...", so under clang
// the message is passed one character per template argument instead, which clang
// prints in full: graph_error<'h', 'e', 'a', 'd', 's', ...>.
#if defined(__clang__)
template <char... Message>
struct graph_error {
  static_assert(sizeof...(Message) == 0,
                "vkattn: the constexpr graph failed its shape check; the message is spelled out, one character "
                "per argument, in the graph_error<...> above");
  static constexpr bool checked = true;
};

namespace detail {
template <auto Text, std::size_t... Index>
consteval bool check_graph_error(std::index_sequence<Index...>) {
  return graph_error<Text.text[Index]...>::checked;
}
template <auto Text>
consteval bool check_graph_error() {
  return check_graph_error<Text>(std::make_index_sequence<sizeof(Text.text) - 1>{});
}
}  // namespace detail
#else
template <detail::ErrorText Message>
struct graph_error {
  static_assert(Message.text[0] == '\0',
                "vkattn: the constexpr graph failed its shape check; the message is the graph_error argument above");
  static constexpr bool checked = true;
};

namespace detail {
template <auto Text>
consteval bool check_graph_error() {
  return graph_error<Text>::checked;
}
}  // namespace detail
#endif

template <auto GraphFn>
consteval auto freeze() {
  static_assert(detail::check_graph_error<detail::error_text<GraphFn>()>());
  constexpr std::size_t count = GraphFn().size();
  FrozenGraph<count> frozen;
  Graph graph = GraphFn();
  frozen.name = Name{graph.name()};
  for (std::size_t i = 0; i < count; ++i) frozen.nodes[i] = graph.nodes()[i];
  return frozen;
}

}  // namespace vkattn
