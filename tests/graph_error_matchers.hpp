#pragma once
// Checks that a DSL call throws a GraphError naming this file and line, plus a text.
#include <catch2/catch.hpp>
#include <string>
#include <vkattn/graph.hpp>

// The call and the macro must be on the same line: the error must name that line.
#define REQUIRE_GRAPH_ERROR(expression, text)                                                         \
  do {                                                                                                \
    std::string vkattn_where_ = std::string(__FILE__) + ":" + std::to_string(__LINE__) + ": ";        \
    try {                                                                                             \
      (void)(expression);                                                                             \
      FAIL("expected a GraphError containing: " << (text));                                           \
    } catch (const vkattn::GraphError& error_) {                                                      \
      std::string message_ = error_.what();                                                           \
      INFO("message: " << message_);                                                                  \
      CHECK(message_.find(vkattn_where_) == 0);                                                       \
      CHECK(message_.find(text) != std::string::npos);                                                \
    }                                                                                                 \
  } while (false)
