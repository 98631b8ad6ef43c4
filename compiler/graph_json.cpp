#include "vkattn/graph_json.hpp"

#include "vkattn/elementwise_forms.hpp"
#include "vkattn/tensor.hpp"

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <fstream>
#include <optional>
#include <nlohmann/json.hpp>
#include <sstream>

namespace vkattn {
namespace {

using nlohmann::json;

std::optional<Op> op_from_name(std::string_view name) {
  for (int i = 0; i < op_count; ++i)
    if (op_name(Op(i)) == name) return Op(i);
  return std::nullopt;
}

// Which attributes an op's graph JSON form carries: every op listed (the elementwise
// forms table's through the table), no default, so a new op fails the build here until
// its JSON form is decided.
enum class JsonAttributes {
  none, transpose_b, factor, heads, repeats, window_and_align, align, axes, epsilon, rotary, value, to, axis,
  gather_axis, slice, rolling, iterations
};

constexpr JsonAttributes json_attributes(Op op) {
  switch (op) {
    case Op::matmul: return JsonAttributes::transpose_b;
    case Op::scale: return JsonAttributes::factor;
    case Op::split_heads: return JsonAttributes::heads;
    case Op::repeat_heads: return JsonAttributes::repeats;
    case Op::sliding_window_mask: return JsonAttributes::window_and_align;
    case Op::causal_mask:
    case Op::query_index:
    case Op::alibi: return JsonAttributes::align;
    case Op::constant: return JsonAttributes::value;
    case Op::cast: return JsonAttributes::to;
    case Op::unsqueeze: return JsonAttributes::axis;
    case Op::slice: return JsonAttributes::slice;
    case Op::cache_write:
    case Op::paged_cache_write: return JsonAttributes::rolling;
    case Op::repeat_begin: return JsonAttributes::iterations;
    case Op::repeat_end: return JsonAttributes::none;
    case Op::key_index:
    case Op::head_index:
    case Op::batch_index:
    case Op::floor_div:
    case Op::where: return JsonAttributes::none;
    case Op::gather: return JsonAttributes::gather_axis;
    case Op::rotary_embedding:
    case Op::rotary_embedding_at: return JsonAttributes::rotary;
    case Op::permute: return JsonAttributes::axes;
    case Op::layer_norm:
    case Op::layer_norm_no_bias:
    case Op::rms_norm: return JsonAttributes::epsilon;
    case Op::input:
    case Op::weight:
    case Op::state:
    case Op::cache_causal_mask:
    case Op::paged_view:
    case Op::output:
    case Op::merge_heads:
    case Op::padding_mask:
    case Op::boolean_mask:
    case Op::additive_mask:
    case Op::softmax:
    case Op::softmax_with_sinks: return JsonAttributes::none;
    // The elementwise forms table's ops carry no attributes (elementwise_forms.hpp).
#define VKATTN_FORM_CASE(name, ...) case Op::name:
    VKATTN_ELEMENTWISE_FORMS(VKATTN_FORM_CASE)
#undef VKATTN_FORM_CASE
    return JsonAttributes::none;
  }
  return JsonAttributes::none;
}

std::optional<DType> dtype_from_name(std::string_view name) {
  for (DType d : {DType::f32, DType::f16, DType::i32, DType::boolean})
    if (dtype_name(d) == name) return d;
  return std::nullopt;
}

json shape_to_json(const Shape& shape) {
  json dims = json::array();
  // A dynamic dimension is {"dyn": name, "max": bound}.
  for (int i = 0; i < shape.rank; ++i)
    if (shape.dynamic(i))
      dims.push_back(json{{"dyn", std::string(shape.symbols[i].text().view())}, {"max", shape.bounds[i]}});
    else
      dims.push_back(shape[i]);
  return dims;
}

class Reader {
 public:
  explicit Reader(std::string_view source) : source_(source) {}

  [[noreturn]] void fail(const std::string& field, const std::string& problem) const {
    throw GraphJsonError(std::string(source_) + ": " + field + ": " + problem);
  }

  const json& member(const json& object, const std::string& field, const char* key) const {
    auto it = object.find(key);
    if (it == object.end()) fail(field, std::string("missing \"") + key + "\"");
    return *it;
  }

  std::string string_of(const json& value, const std::string& field) const {
    if (!value.is_string()) fail(field, "expected a string, got " + std::string(value.type_name()));
    return value.get<std::string>();
  }

  static constexpr std::int64_t max_elements = std::int64_t(1) << 40;

  std::int64_t integer_of(const json& value, const std::string& field) const {
    if (!value.is_number_integer()) fail(field, "expected an integer, got " + value.dump());
    if (value.is_number_unsigned() && value.get<std::uint64_t>() > std::uint64_t(INT64_MAX))
      fail(field, "is out of range: " + value.dump());
    return value.get<std::int64_t>();
  }

  // An integer in [low, high]: narrower fields are range-checked, never truncated.
  std::int64_t integer_in(const json& value, const std::string& field, std::int64_t low, std::int64_t high,
                          const char* what) const {
    const std::int64_t n = integer_of(value, field);
    if (n < low || n > high)
      fail(field, std::to_string(n) + " is not " + what + " (" + std::to_string(low) + ".." + std::to_string(high) + ")");
    return n;
  }

  double number_of(const json& value, const std::string& field) const {
    if (!value.is_number()) fail(field, "expected a number, got " + value.dump());
    return value.get<double>();
  }

  Shape shape_of(const json& value, const std::string& field) const {
    if (!value.is_array()) fail(field, "expected an array of dimensions, got " + value.dump());
    if (value.size() > std::size_t(max_rank))
      fail(field, "has " + std::to_string(value.size()) + " dimensions; at most " + std::to_string(max_rank) +
                      " are supported");
    Shape shape;
    std::int64_t elements = 1;
    for (std::size_t i = 0; i < value.size(); ++i) {
      const std::string at = field + "[" + std::to_string(i) + "]";
      if (value[i].is_object()) {  // {"dyn": name, "max": bound}
        for (const auto& [key, item] : value[i].items())
          if (key != "dyn" && key != "max")
            fail(at + "." + key, "is no key of a dynamic dimension; it has \"dyn\" (its name) and \"max\" (its bound)");
        const std::string name = string_of(member(value[i], at, "dyn"), at + ".dyn");
        if (name.empty() || name.size() > SymbolName::capacity())
          fail(at + ".dyn", "a dynamic dimension's name has 1 to " + std::to_string(SymbolName::capacity()) + " characters");
        for (char c : name)
          if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
            fail(at + ".dyn", "a dynamic dimension's name holds a control character (NUL, say); use printable ones");
        const std::int64_t bound = integer_of(member(value[i], at, "max"), at + ".max");
        if (bound < 1) fail(at + ".max", "a bound must be at least 1, not " + std::to_string(bound));
        if (bound > max_elements / elements)
          fail(field, "has more than " + std::to_string(max_elements) + " elements (2^40), more than any device holds");
        elements *= bound;
        shape.dims[i] = bound;
        shape.bounds[i] = bound;
        shape.symbols[i] = SymbolName{name};
        continue;
      }
      std::int64_t d = integer_of(value[i], at);
      if (d < 1) fail(field + "[" + std::to_string(i) + "]", "a dimension must be at least 1, not " + std::to_string(d));
      if (d > max_elements / elements)
        fail(field, "has more than " + std::to_string(max_elements) + " elements (2^40), more than any device holds");
      elements *= d;
      shape.dims[i] = d;
    }
    shape.rank = int(value.size());
    return shape;
  }

  Node node_of(const json& value, const std::string& field) const {
    if (!value.is_object()) fail(field, "expected an object, got " + std::string(value.type_name()));
    Node node;
    std::string op = string_of(member(value, field, "op"), field + ".op");
    auto parsed_op = op_from_name(op);
    if (!parsed_op) fail(field + ".op", "unknown op \"" + op + "\"");
    node.op = *parsed_op;
    if (auto it = value.find("name"); it != value.end()) {
      std::string name = string_of(*it, field + ".name");
      if (name.empty() || name.size() > Name::capacity())
        fail(field + ".name", "a name must have 1 to " + std::to_string(Name::capacity()) + " characters");
      node.name = Name{std::string_view(name)};
    } else if (op_arity(node.op) == 0 || node.op == Op::output) {
      fail(field, "missing \"name\" (inputs, weights and outputs are bound by name)");
    }
    if (auto it = value.find("dtype"); it != value.end()) {
      std::string dtype = string_of(*it, field + ".dtype");
      auto parsed = dtype_from_name(dtype);
      if (!parsed) fail(field + ".dtype", "unknown dtype \"" + dtype + "\" (expected f32, f16, i32 or bool)");
      node.dtype = *parsed;
    }
    if (op_arity(node.op) == 0) {
      node.shape = shape_of(member(value, field, "shape"), field + ".shape");
    } else {
      const json& inputs = member(value, field, "inputs");
      if (!inputs.is_array() || inputs.size() != std::size_t(op_arity(node.op)))
        fail(field + ".inputs", op + " takes " + std::to_string(op_arity(node.op)) + " operand(s), got " + inputs.dump());
      for (std::size_t i = 0; i < inputs.size(); ++i)
        node.inputs[i] = ValueId(
            integer_in(inputs[i], field + ".inputs[" + std::to_string(i) + "]", 0, INT32_MAX, "a value id"));
    }
    Attributes& a = node.attributes;
    auto optional = [&](const char* key) -> const json* {
      auto it = value.find(key);
      return it == value.end() ? nullptr : &*it;
    };
    auto required = [&](const char* key) -> const json& { return member(value, field, key); };
    switch (json_attributes(node.op)) {
      case JsonAttributes::transpose_b:
        if (const json* t = optional("transpose_b")) {
          if (!t->is_boolean()) fail(field + ".transpose_b", "expected true or false");
          a.transpose_b = t->get<bool>();
        }
        break;
      case JsonAttributes::factor: a.factor = number_of(required("factor"), field + ".factor"); break;
      case JsonAttributes::heads: a.count = integer_of(required("heads"), field + ".heads"); break;
      case JsonAttributes::repeats: a.count = integer_of(required("repeats"), field + ".repeats"); break;
      case JsonAttributes::iterations: a.count = integer_of(required("iterations"), field + ".iterations"); break;
      case JsonAttributes::window_and_align: a.count = integer_of(required("window"), field + ".window"); [[fallthrough]];
      case JsonAttributes::align:
        if (const json* align = optional("align")) {
          std::string text = string_of(*align, field + ".align");
          if (text == "top_left") a.align = CausalAlign::top_left;
          else if (text == "bottom_right") a.align = CausalAlign::bottom_right;
          else fail(field + ".align", "expected \"top_left\" or \"bottom_right\", got \"" + text + "\"");
        }
        break;
      case JsonAttributes::axes: {
        const json& axes = required("axes");
        if (!axes.is_array() || axes.size() > std::size_t(max_rank))
          fail(field + ".axes", "expected an array of at most " + std::to_string(max_rank) + " axes");
        for (std::size_t i = 0; i < axes.size(); ++i)
          a.permutation[i] = std::int8_t(integer_in(axes[i], field + ".axes[" + std::to_string(i) + "]", 0,
                                                    max_rank - 1, "an axis"));
        break;
      }
      case JsonAttributes::epsilon:
        if (const json* eps = optional("epsilon")) a.epsilon = number_of(*eps, field + ".epsilon");
        break;
      case JsonAttributes::rotary: {
        a.rotary_dims = integer_of(required("dims"), field + ".dims");
        a.theta = number_of(required("theta"), field + ".theta");
        std::string layout = string_of(required("layout"), field + ".layout");
        if (layout == "half_split") a.rotary_layout = RotaryLayout::half_split;
        else if (layout == "interleaved") a.rotary_layout = RotaryLayout::interleaved;
        else fail(field + ".layout", "expected \"half_split\" or \"interleaved\", got \"" + layout + "\"");
        if (const json* offset = optional("offset")) a.position_offset = integer_of(*offset, field + ".offset");
        break;
      }
      case JsonAttributes::value: {  // a number, or "inf", "-inf" or "nan" (which JSON numbers cannot hold)
        const json& v = required("value");
        if (v.is_string()) {
          const std::string text = v.get<std::string>();
          if (text == "inf") a.factor = std::numeric_limits<double>::infinity();
          else if (text == "-inf") a.factor = -std::numeric_limits<double>::infinity();
          else if (text == "nan") a.factor = std::numeric_limits<double>::quiet_NaN();
          else fail(field + ".value", "expected a number, \"inf\", \"-inf\" or \"nan\", got \"" + text + "\"");
        } else {
          a.factor = number_of(v, field + ".value");
        }
        a.to = node.dtype;
        break;
      }
      case JsonAttributes::to: {
        std::string text = string_of(required("to"), field + ".to");
        auto parsed = dtype_from_name(text);
        if (!parsed) fail(field + ".to", "unknown dtype \"" + text + "\" (expected f32, f16 or i32)");
        a.to = *parsed;
        break;
      }
      case JsonAttributes::axis: a.count = integer_in(required("axis"), field + ".axis", 0, max_rank, "an axis"); break;
      case JsonAttributes::gather_axis:
        if (const json* axis = optional("axis"))
          a.axis = std::int8_t(integer_in(*axis, field + ".axis", -max_rank, -1, "an axis counted from the back"));
        break;
      case JsonAttributes::slice:
        a.axis = std::int8_t(integer_in(required("axis"), field + ".axis", -max_rank, -1, "an axis counted from the back"));
        a.start = integer_of(required("start"), field + ".start");
        a.count = integer_of(required("count"), field + ".count");
        break;
      case JsonAttributes::rolling:
        if (const json* rolling = optional("rolling")) {
          if (!rolling->is_boolean()) fail(field + ".rolling", "expected true or false");
          a.rolling = rolling->get<bool>();
        }
        break;
      case JsonAttributes::none: break;
    }
    return node;
  }

 private:
  std::string_view source_;
};

}  // namespace

std::string graph_to_json(const Graph& graph, int indent) {
  json values = json::array();
  for (const Node& node : graph.nodes()) {
    json v;
    v["op"] = std::string(op_name(node.op));
    v["name"] = std::string(node.name.view());
    if (op_arity(node.op) > 0) {
      json inputs = json::array();
      for (int i = 0; i < op_arity(node.op); ++i) inputs.push_back(node.inputs[std::size_t(i)]);
      v["inputs"] = inputs;
    }
    v["shape"] = shape_to_json(node.shape);
    v["dtype"] = std::string(dtype_name(node.dtype));
    const Attributes& a = node.attributes;
    switch (json_attributes(node.op)) {
      case JsonAttributes::transpose_b: v["transpose_b"] = a.transpose_b; break;
      case JsonAttributes::factor: v["factor"] = a.factor; break;
      case JsonAttributes::heads: v["heads"] = a.count; break;
      case JsonAttributes::repeats: v["repeats"] = a.count; break;
      case JsonAttributes::iterations: v["iterations"] = a.count; break;
      case JsonAttributes::window_and_align: v["window"] = a.count; [[fallthrough]];
      case JsonAttributes::align: v["align"] = std::string(align_name(a.align)); break;
      case JsonAttributes::axes: {
        json axes = json::array();
        for (int i = 0; i < node.shape.rank; ++i) axes.push_back(int(a.permutation[std::size_t(i)]));
        v["axes"] = axes;
        break;
      }
      case JsonAttributes::epsilon: v["epsilon"] = a.epsilon; break;
      case JsonAttributes::rotary:
        v["dims"] = a.rotary_dims;
        v["theta"] = a.theta;
        v["layout"] = std::string(rotary_layout_name(a.rotary_layout));
        v["offset"] = a.position_offset;
        break;
      case JsonAttributes::value:
        if (std::isfinite(a.factor)) v["value"] = a.factor;
        else v["value"] = std::isnan(a.factor) ? "nan" : a.factor > 0 ? "inf" : "-inf";
        break;
      case JsonAttributes::to: v["to"] = std::string(dtype_name(a.to)); break;
      case JsonAttributes::axis: v["axis"] = a.count; break;
      case JsonAttributes::gather_axis: v["axis"] = a.axis; break;
      case JsonAttributes::rolling:
        if (a.rolling) v["rolling"] = true;
        break;
      case JsonAttributes::slice:
        v["axis"] = a.axis;
        v["start"] = a.start;
        v["count"] = a.count;
        break;
      case JsonAttributes::none: break;
    }
    values.push_back(v);
  }
  json root;
  root["format"] = "vkattn.graph";
  root["version"] = graph_json_version;
  root["name"] = std::string(graph.name());
  root["values"] = values;
  return root.dump(indent);
}

Graph graph_from_json(std::string_view text, std::string_view source) {
  Reader reader(source);
  json root;
  try {
    root = json::parse(text);
  } catch (const json::exception& e) {  // malformed, or a number out of range (1e999)
    reader.fail("(document)", std::string("not valid JSON: ") + e.what());
  }
  if (!root.is_object()) reader.fail("(document)", "expected a JSON object");
  std::string format = reader.string_of(reader.member(root, "(document)", "format"), "format");
  if (format != "vkattn.graph") reader.fail("format", "expected \"vkattn.graph\", got \"" + format + "\"");
  std::int64_t version = reader.integer_of(reader.member(root, "(document)", "version"), "version");
  if (version != graph_json_version)
    reader.fail("version", "this vkattn reads version " + std::to_string(graph_json_version) + ", the file is version " +
                               std::to_string(version));
  std::string name = reader.string_of(reader.member(root, "(document)", "name"), "name");
  if (name.size() > Name::capacity()) reader.fail("name", "longer than " + std::to_string(Name::capacity()) + " characters");
  const json& values = reader.member(root, "(document)", "values");
  if (!values.is_array()) reader.fail("values", "expected an array of values");
  Graph graph{name};
  for (std::size_t i = 0; i < values.size(); ++i) {
    std::string field = "values[" + std::to_string(i) + "]";
    Node node = reader.node_of(values[i], field);
    std::optional<Shape> declared_shape;
    if (op_arity(node.op) > 0 && values[i].contains("shape"))
      declared_shape = reader.shape_of(values[i]["shape"], field + ".shape");
    Value value;
    try {
      value = graph.append(node, SourceLocation{});
    } catch (const GraphError& e) {
      reader.fail(field, e.what());
    }
    if (declared_shape && !(*declared_shape == value.shape()))
      reader.fail(field + ".shape", "says " + to_string(*declared_shape) + " but the operands give " +
                                        to_string(value.shape()));
    if (op_arity(node.op) > 0 && values[i].contains("dtype") && node.dtype != value.dtype())
      reader.fail(field + ".dtype", "says " + std::string(dtype_name(node.dtype)) + " but the operands give " +
                                        std::string(dtype_name(value.dtype())));
  }
  if (graph.open_body() != no_value)
    reader.fail("values[" + std::to_string(graph.open_body()) + "]",
                "repeat_begin opens a body that no repeat_end closes (a repeat_end whose inputs are the body's "
                "result and this value)");
  return graph;
}

Graph load_graph_json(const std::string& path) {
  std::error_code error;
  if (std::filesystem::is_directory(path, error)) throw GraphJsonError(path + ": is a directory, not a graph JSON file");
  std::ifstream file(path, std::ios::binary);
  if (!file) throw GraphJsonError(path + ": cannot open the file");
  std::stringstream text;
  text << file.rdbuf();
  return graph_from_json(text.str(), path);
}

}  // namespace vkattn
