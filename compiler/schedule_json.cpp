// A Schedule as JSON, format "vkattn.schedule" (docs/schedule-json.md).
#include <cmath>
#include <nlohmann/json.hpp>

#include "vkattn/codegen/render.hpp"

#include "vkattn/schedule_text.hpp"

namespace vkattn {

namespace {

// A FLOP or byte count: an integer when it is one (they always are but for the
// estimate of a few transcendental ops), so readers do not see 1.2e+07 for a byte count.
nlohmann::json count_json(double v) {
  if (v >= 0 && v < 9.0e15 && v == double(std::int64_t(v))) return std::int64_t(v);
  return v;
}

// A dynamic dimension is {"dyn": name, "max": bound, "size": this schedule's size}.
nlohmann::json shape_json(const Shape& shape) {
  nlohmann::json dims = nlohmann::json::array();
  for (int i = 0; i < shape.rank; ++i)
    if (shape.dynamic(i))
      dims.push_back({{"dyn", std::string(shape.symbols[std::size_t(i)].text().view())},
                      {"max", shape.bounds[std::size_t(i)]},
                      {"size", shape[i]}});
    else
      dims.push_back(shape[i]);
  return dims;
}

std::string cover_name(const Graph* graph, ValueId id) {
  if (graph != nullptr && id >= 0 && std::size_t(id) < graph->size()) return std::string(graph->node(id).name.view());
  std::string text = "%";  // appended, not concatenated: g++ 12 misreports operator+ here
  text += std::to_string(id);
  return text;
}

std::vector<std::string> constant_names(const Dispatch& d) {
  std::vector<std::string> names;
  for (const char* name : shader_info(d.shader).constant_names) names.emplace_back(name);
  names.resize(d.specialization.size());
  return names;
}

}  // namespace

std::string target_to_json(const Target& t) {
  nlohmann::json j{{"name", std::string(t.name.view())},
                   {"vendor", std::string(vendor_name(t.vendor))},
                   {"device_type", std::string(device_type_name(t.device_type))},
                   {"subgroup_min", t.subgroup_min},
                   {"subgroup_max", t.subgroup_max},
                   {"subgroup_size_control", t.subgroup_size_control},
                   {"subgroup_arithmetic", t.subgroup_arithmetic},
                   {"subgroup_shuffle", t.subgroup_shuffle},
                   {"shared_memory_bytes", t.shared_memory_bytes},
                   {"max_invocations", t.max_invocations},
                   {"storage_16bit", t.storage_16bit},
                   {"f16_arithmetic", t.f16_arithmetic},
                   {"cooperative_matrix", t.cooperative_matrix},
                   {"max_texel_buffer_elements", t.max_texel_buffer_elements},
                   {"max_storage_buffer_range", t.max_storage_buffer_range}};
  return j.dump();
}

// Generated code: each expression's nodes and tensors as data (what the runtime renders),
// with its text for people.
nlohmann::json programs_json(const Schedule& s) {
  nlohmann::json programs = nlohmann::json::array();
  for (const Expression& e : s.programs) {
    nlohmann::json nodes = nlohmann::json::array(), tensors = nlohmann::json::array();
    for (const ExprNode& n : e.nodes) {
      nlohmann::json node{{"op", std::string(op_name(n.op))},
                          {"dtype", std::string(dtype_name(n.dtype))},
                          {"args", {n.args[0], n.args[1], n.args[2]}}};
      if (n.tensor >= 0) node["tensor"] = n.tensor;
      if (n.axis >= 0) node["axis"] = n.axis, node["align"] = std::string(align_name(n.align));
      if (n.op == Op::constant || n.op == Op::scale) {  // JSON numbers hold no infinity: "-inf" as text
        if (std::isfinite(n.value)) node["value"] = n.value;
        else node["value"] = std::isnan(n.value) ? "nan" : n.value > 0 ? "inf" : "-inf";
      }
      if (n.op == Op::cast) node["to"] = std::string(dtype_name(n.to));
      nodes.push_back(node);
    }
    static constexpr const char* kinds[] = {"one", "coordinate", "fixed", "push"};
    for (const ExprTensor& t : e.tensors) {
      nlohmann::json extents = nlohmann::json::array();
      for (const ExprExtent& x : t.extents) extents.push_back({kinds[std::size_t(x.kind)], x.size});
      nlohmann::json tensor{{"binding", t.binding}, {"dtype", std::string(dtype_name(t.dtype))}, {"gathered", t.gathered},
                            {"extents", extents}};
      if (t.limit != ExprLimit::none) tensor["limit"] = limit_name(t.limit);
      tensors.push_back(tensor);
    }
    nlohmann::json program{{"nodes", nodes}, {"tensors", tensors}, {"visible", e.visible}, {"value", e.value}};
    if (e.visible >= 0) program["visible_text"] = expression_text(e, e.visible);
    if (e.value >= 0) program["value_text"] = expression_text(e, e.value);
    if (e.prologue >= 0) {
      program["prologue"] = e.prologue;
      program["prologue_text"] = expression_text(e, e.prologue);
    }
    if (!e.outputs.empty()) {
      nlohmann::json outputs = nlohmann::json::array();
      for (const ExprOutput& out : e.outputs)
        outputs.push_back({{"node", out.node}, {"binding", out.binding}, {"dtype", std::string(dtype_name(out.dtype))},
                           {"text", expression_text(e, out.node)}});
      program["outputs"] = outputs;
    }
    programs.push_back(program);
  }
  return programs;
}

std::string schedule_to_json(const Schedule& s, const Graph* graph) {
  nlohmann::json doc;
  doc["format"] = "vkattn.schedule";
  doc["version"] = schedule_json_version;
  doc["graph"] = std::string(s.graph_name.view());
  doc["fused"] = s.fused;
  doc["target"] = nlohmann::json::parse(target_to_json(s.target));
  double bytes = 0;
  for (std::size_t i = 0; i < s.dispatches.size(); ++i) bytes += s.dispatches[i].bytes * s.executions(i);
  doc["totals"] = {{"dispatches", s.dispatches.size()}, {"flops", count_json(s.total_flops())}, {"bytes", count_json(bytes)}};
  doc["memory"] = {{"peak_bytes", s.memory.peak_bytes},
                   {"naive_bytes", s.memory.naive_bytes},
                   {"arena_bytes", s.arena_bytes},
                   {"weight_bytes", s.weight_bytes}};
  nlohmann::json slots = nlohmann::json::array();
  for (const TensorSlot& t : s.slots) {
    nlohmann::json slot{{"name", std::string(t.name.view())},
                        {"role", std::string(role_name(t.role))},
                        {"storage", t.storage == Storage::arena ? "arena" : "weights"},
                        {"shape", shape_json(t.shape)},
                        {"dtype", std::string(dtype_name(t.dtype))},
                        {"element", std::string(dtype_name(t.element))},
                        {"offset", t.offset},
                        {"bytes", t.bytes},
                        {"live", {t.live_from, t.live_to}},
                        {"value", t.value}};
    if (!t.parts.empty()) {
      nlohmann::json parts = nlohmann::json::array();
      for (const PackedPart& part : t.parts)
        parts.push_back({{"name", std::string(part.name.view())}, {"shape", shape_json(part.shape)}});
      slot["packed_from"] = parts;
    }
    slots.push_back(slot);
  }
  doc["slots"] = slots;
  nlohmann::json dispatches = nlohmann::json::array();
  for (std::size_t i = 0; i < s.dispatches.size(); ++i) {
    const Dispatch& d = s.dispatches[i];
    nlohmann::json bindings = nlohmann::json::array();
    for (int b = 0; b < max_bindings; ++b)
      if (d.slots[std::size_t(b)] >= 0)
        bindings.push_back({{"binding", b},
                            {"slot", d.slots[std::size_t(b)]},
                            {"tensor", std::string(s.slots[std::size_t(d.slots[std::size_t(b)])].name.view())},
                            {"access", std::string(access_name(d.access[std::size_t(b)]))}});
    nlohmann::json covers = nlohmann::json::array();
    nlohmann::json cover_ids = nlohmann::json::array();
    for (ValueId id : d.covers) {
      covers.push_back(cover_name(graph, id));
      cover_ids.push_back(id);
    }
    dispatches.push_back({{"index", i},
                          {"kernel", std::string(kernel_name(d.kernel))},
                          {"shader", std::string(shader_info(d.shader).name)},
                          {"element", std::string(dtype_name(d.element))},
                          {"config", std::string(d.config.view())},
                          {"reason", std::string(d.reason.view())},
                          {"local_size", d.local_size()},
                          {"shared_bytes", d.shared_bytes()},
                          {"label", std::string(d.label.view())},
                          {"bindings", bindings},
                          {"push_constants", std::vector<std::uint32_t>(d.push_constants.begin(), d.push_constants.end())},
                          {"specialization", std::vector<std::uint32_t>(d.specialization.begin(), d.specialization.end())},
                          {"specialization_names", constant_names(d)},
                          {"workgroups", d.workgroups},
                          {"covers", covers},
                          {"cover_ids", cover_ids},
                          {"flops", count_json(d.flops)},
                          {"bytes", count_json(d.bytes)},
                          {"barrier_after", d.barrier_after}});
    if (d.program >= 0) dispatches.back()["program"] = d.program;
  }
  doc["dispatches"] = dispatches;
  if (!s.programs.empty()) doc["programs"] = programs_json(s);
  if (!s.repeats.empty()) {
    nlohmann::json repeats = nlohmann::json::array();
    for (const RepeatRange& r : s.repeats)
      repeats.push_back({{"first", r.first},
                         {"count", r.count},
                         {"iterations", r.iterations},
                         {"carried", {r.carried_in, r.carried_out}}});
    doc["repeats"] = repeats;
  }
  if (!s.remarks.empty()) {
    nlohmann::json remarks = nlohmann::json::array();
    for (const Remark& r : s.remarks) remarks.push_back({{"value", std::string(r.value.view())}, {"text", std::string(r.text.view())}});
    doc["remarks"] = remarks;
  }
  return doc.dump(2);
}

}  // namespace vkattn
