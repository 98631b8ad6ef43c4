#pragma once
// Graphs as JSON (schema: docs/graph-json.md), so tools can write graphs that vkattn
// loads, and vkattn can show the graphs it builds.
#include <stdexcept>
#include <string>
#include <string_view>

#include "vkattn/graph.hpp"

namespace vkattn {

inline constexpr int graph_json_version = 1;

class GraphJsonError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

std::string graph_to_json(const Graph& graph, int indent = 2);

// `source` names the text in error messages (a file name, say). Every node goes
// through the same checks as the DSL; errors name the field, e.g. "values[3].shape".
Graph graph_from_json(std::string_view text, std::string_view source = "graph JSON");

Graph load_graph_json(const std::string& path);

}  // namespace vkattn
