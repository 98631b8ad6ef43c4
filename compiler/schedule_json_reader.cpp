// Reads a "vkattn.schedule" JSON document back into a Schedule.
#include <limits>
#include <nlohmann/json.hpp>
#include <type_traits>
#include <utility>

#include "vkattn/schedule_check.hpp"
#include "vkattn/schedule_text.hpp"

namespace vkattn {

namespace {

using nlohmann::json;

[[noreturn]] void fail(const std::string& where, const std::string& what) {
  throw ScheduleJsonError("schedule JSON: " + where + ": " + what);
}

// "dispatches/2/kernel"; a top-level key stands alone.
std::string path_of(const std::string& where, const std::string& key) {
  return where.empty() ? key : where + "/" + key;
}

const json& field(const json& object, const std::string& key, const std::string& where) {
  if (!object.is_object()) fail(where, "is not an object");
  auto it = object.find(key);
  if (it == object.end()) fail(path_of(where, key), "is missing");
  return *it;
}

// A number of type T: an integer in T's range for integral T (never a float cut to one).
template <typename T>
T number(const json& object, const std::string& key, const std::string& where) {
  const json& v = field(object, key, where);
  if (!v.is_number()) fail(path_of(where, key), "is not a number");
  if constexpr (std::is_integral_v<T>) {
    if (!v.is_number_integer()) fail(path_of(where, key), "is not a whole number: " + v.dump());
    const bool fits = v.is_number_unsigned() ? std::in_range<T>(v.get<std::uint64_t>()) : std::in_range<T>(v.get<std::int64_t>());
    if (!fits) fail(path_of(where, key), "is out of range: " + v.dump());
  }
  return v.get<T>();
}

bool flag(const json& object, const std::string& key, const std::string& where) {
  const json& v = field(object, key, where);
  if (!v.is_boolean()) fail(path_of(where, key), "is not true or false");
  return v.get<bool>();
}

const json& list(const json& object, const std::string& key, const std::string& where) {
  const json& v = field(object, key, where);
  if (!v.is_array()) fail(path_of(where, key), "is not a list");
  return v;
}

std::string text(const json& object, const std::string& key, const std::string& where) {
  const json& v = field(object, key, where);
  if (!v.is_string()) fail(path_of(where, key), "is not a string");
  return v.get<std::string>();
}

template <typename Enum, typename Values>
Enum named(const json& object, const std::string& key, const std::string& where, const Values& values,
           std::string_view (*name)(Enum)) {
  const std::string t = text(object, key, where);
  for (Enum e : values)
    if (name(e) == t) return e;
  fail(path_of(where, key), "unknown value '" + t + "'");
}

std::string_view storage_name(Storage s) { return s == Storage::arena ? "arena" : "weights"; }
std::string_view role_text(SlotRole r) { return role_name(r); }
std::string_view kernel_text(Kernel k) { return kernel_name(k); }
std::string_view shader_text(Shader shader) { return shader_info(shader).name; }
std::string_view device_type_text(DeviceType t) { return device_type_name(t); }
std::string_view vendor_text(Vendor v) { return vendor_name(v); }

// Every value of an enum whose last enumerator is `last`.
template <typename Enum>
std::vector<Enum> every(Enum last) {
  std::vector<Enum> values;
  for (int i = 0; i <= int(last); ++i) values.push_back(Enum(i));
  return values;
}
std::string_view access_text(Access a) { return access_name(a); }
std::string_view dtype_text(DType d) { return dtype_name(d); }

Shape shape_of(const json& object, const std::string& key, const std::string& where) {
  const json& dims = field(object, key, where);
  if (!dims.is_array() || dims.size() > std::size_t(max_rank)) fail(path_of(where, key), "is not a shape");
  Shape shape;
  shape.rank = int(dims.size());
  for (std::size_t i = 0; i < dims.size(); ++i) {
    if (dims[i].is_object()) {  // {"dyn": name, "max": bound, "size": size}
      const std::string at = path_of(where, key) + "[" + std::to_string(i) + "]";
      const std::string name = text(dims[i], "dyn", at);
      if (name.empty() || name.size() > SymbolName::capacity()) fail(at + ".dyn", "is not a dimension name (1 to 15 characters)");
      const json& bound = field(dims[i], "max", at);
      const json& size = field(dims[i], "size", at);
      if (!bound.is_number_integer() || !size.is_number_integer()) fail(at, "is not a dynamic dimension");
      shape.symbols[i] = SymbolName{name};
      shape.bounds[i] = bound.get<std::int64_t>();
      shape[int(i)] = size.get<std::int64_t>();
      if (shape[int(i)] < 1 || shape[int(i)] > shape.bounds[i]) fail(at + ".size", "is not 1 to its bound");
      continue;
    }
    if (!dims[i].is_number_integer()) fail(path_of(where, key), "is not a shape");
    shape[int(i)] = dims[i].get<std::int64_t>();
  }
  return shape;
}

template <typename T, std::size_t N>
void fill(FixedVector<T, N>& out, const json& object, const std::string& key, const std::string& where) {
  const json& list = field(object, key, where);
  if (!list.is_array() || list.size() > N) fail(path_of(where, key), "is not a list of at most " + std::to_string(N));
  for (const json& v : list) {
    if (!v.is_number_integer()) fail(path_of(where, key), "holds a non-integer");
    const bool fits = v.is_number_unsigned() ? std::in_range<T>(v.get<std::uint64_t>()) : std::in_range<T>(v.get<std::int64_t>());
    if (!fits) fail(path_of(where, key), "holds a number out of range: " + v.dump());
    out.push_back(v.get<T>());
  }
}

std::string_view op_text(Op op) { return op_name(op); }
std::string_view align_text(CausalAlign a) { return align_name(a); }
std::string_view extent_text(ExprExtent::Kind k) {
  static constexpr std::string_view kinds[] = {"one", "coordinate", "fixed", "push"};
  return kinds[std::size_t(k)];
}

// One expression of generated code; check_schedule then checks how its parts connect.
Expression program_of(const json& j, const std::string& where) {
  static constexpr DType dtypes[] = {DType::f32, DType::f16, DType::i32, DType::boolean};
  static constexpr CausalAlign aligns[] = {CausalAlign::top_left, CausalAlign::bottom_right};
  static constexpr ExprExtent::Kind kinds[] = {ExprExtent::Kind::one, ExprExtent::Kind::coordinate,
                                               ExprExtent::Kind::fixed, ExprExtent::Kind::push};
  Expression e;
  const json& nodes = list(j, "nodes", where);
  const json& tensors = list(j, "tensors", where);
  if (nodes.size() > max_expression_nodes || tensors.size() > max_expression_tensors)
    fail(where, "has more nodes or tensors than generated code holds");
  const std::vector<Op> ops = every(Op(op_count - 1));
  for (std::size_t k = 0; k < nodes.size(); ++k) {
    const std::string at = where + "/nodes/" + std::to_string(k);
    ExprNode n;
    n.op = named(nodes[k], "op", at, ops, op_text);
    n.dtype = named(nodes[k], "dtype", at, dtypes, dtype_text);
    const json& args = list(nodes[k], "args", at);
    if (args.size() != 3) fail(at + "/args", "is not three node indices");
    for (std::size_t a = 0; a < 3; ++a) {
      if (!args[a].is_number_integer() || args[a].get<std::int64_t>() < -1 || args[a].get<std::int64_t>() >= std::int64_t(k))
        fail(at + "/args", "names a node that does not come before it");
      n.args[a] = std::int8_t(args[a].get<int>());
    }
    if (nodes[k].contains("tensor")) n.tensor = number<std::int8_t>(nodes[k], "tensor", at);
    if (nodes[k].contains("axis")) {
      n.axis = number<std::int8_t>(nodes[k], "axis", at);
      n.align = named(nodes[k], "align", at, aligns, align_text);
    }
    if (nodes[k].contains("value")) {
      const json& v = nodes[k]["value"];
      if (v.is_string()) {
        const std::string t = v.get<std::string>();
        if (t == "inf" || t == "-inf") n.value = (t == "inf" ? 1 : -1) * std::numeric_limits<double>::infinity();
        else if (t == "nan") n.value = std::numeric_limits<double>::quiet_NaN();
        else fail(at + "/value", "is not a number, \"inf\", \"-inf\" or \"nan\"");
      } else {
        n.value = number<double>(nodes[k], "value", at);
      }
    }
    if (nodes[k].contains("to")) n.to = named(nodes[k], "to", at, dtypes, dtype_text);
    e.nodes.push_back(n);
  }
  for (std::size_t k = 0; k < tensors.size(); ++k) {
    const std::string at = where + "/tensors/" + std::to_string(k);
    ExprTensor t;
    t.binding = number<int>(tensors[k], "binding", at);
    t.dtype = named(tensors[k], "dtype", at, dtypes, dtype_text);
    // Files from before gathers took an axis say "table": true for the last one.
    if (!tensors[k].contains("gathered") && tensors[k].contains("table"))
      t.gathered = std::int8_t(flag(tensors[k], "table", at) ? max_rank - 1 : -1);
    else
      t.gathered = std::int8_t(number<int>(tensors[k], "gathered", at));
    if (t.gathered < -1 || t.gathered >= max_rank) fail(at + "/gathered", "is not an axis 0..3 or -1 (none)");
    const json& extents = list(tensors[k], "extents", at);
    if (extents.size() != std::size_t(max_rank)) fail(at + "/extents", "is not four extents");
    for (std::size_t a = 0; a < extents.size(); ++a) {
      const json& x = extents[a];
      if (!x.is_array() || x.size() != 2 || !x[0].is_string() || !x[1].is_number_integer())
        fail(at + "/extents", "holds an extent that is not [kind, size]");
      bool found = false;
      for (ExprExtent::Kind kind : kinds)
        if (extent_text(kind) == x[0].get<std::string>()) t.extents[a].kind = kind, found = true;
      if (!found) fail(at + "/extents", "holds an unknown kind of extent");
      t.extents[a].size = x[1].get<std::int64_t>();
    }
    if (tensors[k].contains("limit")) {
      const json& limit = tensors[k]["limit"];
      bool found = false;
      for (ExprLimit l : expr_limits)
        if (limit.is_string() && limit.get<std::string>() == limit_name(l)) t.limit = l, found = true;
      if (!found) fail(at + "/limit", "is not none, key_count or query_start");
    }
    e.tensors.push_back(t);
  }
  e.visible = number<int>(j, "visible", where);
  e.value = number<int>(j, "value", where);
  if (j.contains("prologue")) e.prologue = number<int>(j, "prologue", where);
  if (j.contains("outputs")) {
    const json& outputs = list(j, "outputs", where);
    if (outputs.size() > max_expression_outputs) fail(where + "/outputs", "holds more outputs than generated code stores");
    for (std::size_t k = 0; k < outputs.size(); ++k) {
      const std::string at = where + "/outputs/" + std::to_string(k);
      ExprOutput out;
      out.node = number<int>(outputs[k], "node", at);
      out.binding = number<int>(outputs[k], "binding", at);
      out.dtype = named(outputs[k], "dtype", at, dtypes, dtype_text);
      e.outputs.push_back(out);
    }
  }
  return e;
}

Schedule parse_schedule(const std::string& document) {
  json doc;
  try {
    doc = json::parse(document);
  } catch (const json::parse_error& e) {
    fail("document", std::string("is not JSON: ") + e.what());
  }
  if (text(doc, "format", "") != "vkattn.schedule") fail("format", "is not \"vkattn.schedule\"");
  if (number<int>(doc, "version", "") != schedule_json_version)
    fail("version", "is " + field(doc, "version", "").dump() + "; this reader knows version " +
                        std::to_string(schedule_json_version));
  static constexpr Storage storages[] = {Storage::arena, Storage::weights};
  static constexpr SlotRole roles[] = {SlotRole::input, SlotRole::weight, SlotRole::intermediate, SlotRole::output,
                                       SlotRole::state};
  const std::vector<Kernel> kernels = every(Kernel::pointwise);
  const std::vector<Shader> shaders = every(Shader::pointwise);
  static_assert(kernel_count == std::size_t(Kernel::pointwise) + 1 &&
                shader_count == std::size_t(Shader::pointwise) + 1);
  static constexpr Access accesses[] = {Access::unused, Access::storage, Access::texel_vec4, Access::texel_scalar};
  static constexpr DType dtypes[] = {DType::f32, DType::f16, DType::i32, DType::boolean};

  Schedule s;
  s.graph_name = Name{text(doc, "graph", "")};
  s.fused = flag(doc, "fused", "");
  {
    const json& t = field(doc, "target", "");
    Target& target = s.target;
    target.name = TargetName{text(t, "name", "target")};
    target.vendor = named(t, "vendor", "target", every(Vendor::other), vendor_text);
    target.device_type = named(t, "device_type", "target", every(DeviceType::other), device_type_text);
    target.subgroup_min = number<std::uint32_t>(t, "subgroup_min", "target");
    target.subgroup_max = number<std::uint32_t>(t, "subgroup_max", "target");
    target.subgroup_size_control = flag(t, "subgroup_size_control", "target");
    target.subgroup_arithmetic = flag(t, "subgroup_arithmetic", "target");
    target.subgroup_shuffle = flag(t, "subgroup_shuffle", "target");
    target.shared_memory_bytes = number<std::uint32_t>(t, "shared_memory_bytes", "target");
    target.max_invocations = number<std::uint32_t>(t, "max_invocations", "target");
    target.storage_16bit = flag(t, "storage_16bit", "target");
    target.f16_arithmetic = flag(t, "f16_arithmetic", "target");
    target.cooperative_matrix = flag(t, "cooperative_matrix", "target");
    target.max_texel_buffer_elements = number<std::uint64_t>(t, "max_texel_buffer_elements", "target");
    target.max_storage_buffer_range = number<std::uint64_t>(t, "max_storage_buffer_range", "target");
  }
  const json& memory = field(doc, "memory", "");
  s.memory.peak_bytes = number<std::int64_t>(memory, "peak_bytes", "memory");
  s.memory.naive_bytes = number<std::int64_t>(memory, "naive_bytes", "memory");
  s.arena_bytes = number<std::int64_t>(memory, "arena_bytes", "memory");
  s.weight_bytes = number<std::int64_t>(memory, "weight_bytes", "memory");

  const json& slots = list(doc, "slots", "");
  for (std::size_t i = 0; i < slots.size(); ++i) {
    const std::string where = "slots/" + std::to_string(i);
    const json& j = slots[i];
    TensorSlot t;
    t.name = Name{text(j, "name", where)};
    t.value = number<ValueId>(j, "value", where);
    t.shape = shape_of(j, "shape", where);
    t.dtype = named(j, "dtype", where, dtypes, dtype_text);
    t.element = named(j, "element", where, dtypes, dtype_text);
    t.role = named(j, "role", where, roles, role_text);
    t.storage = named(j, "storage", where, storages, storage_name);
    t.offset = number<std::int64_t>(j, "offset", where);
    t.bytes = number<std::int64_t>(j, "bytes", where);
    const json& live = field(j, "live", where);
    if (!live.is_array() || live.size() != 2 || !live[0].is_number_integer() || !live[1].is_number_integer() ||
        !std::in_range<int>(live[0].get<std::int64_t>()) || !std::in_range<int>(live[1].get<std::int64_t>()))
      fail(where + "/live", "is not a pair of dispatch indices");
    t.live_from = live[0].get<int>();
    t.live_to = live[1].get<int>();
    if (j.contains("packed_from")) {
      const json& parts = j["packed_from"];
      if (!parts.is_array() || parts.size() > max_packed_parts) fail(where + "/packed_from", "is not a list of parts");
      for (std::size_t k = 0; k < parts.size(); ++k) {
        const std::string at = where + "/packed_from/" + std::to_string(k);
        t.parts.push_back(PackedPart{Name{text(parts[k], "name", at)}, shape_of(parts[k], "shape", at)});
      }
    }
    s.slots.push_back(t);
  }

  const json& dispatches = list(doc, "dispatches", "");
  for (std::size_t i = 0; i < dispatches.size(); ++i) {
    const std::string where = "dispatches/" + std::to_string(i);
    const json& j = dispatches[i];
    Dispatch d;
    d.kernel = named(j, "kernel", where, kernels, kernel_text);
    d.shader = named(j, "shader", where, shaders, shader_text);
    if (shader_info(d.shader).kernel != d.kernel) fail(where + "/shader", "is a shader of another kernel");
    d.element = named(j, "element", where, dtypes, dtype_text);
    if (d.element == DType::i32) fail(where + "/element", "is the element type of the float tensors: f32 or f16");
    d.config = ConfigText{text(j, "config", where)};
    d.reason = ReasonText{text(j, "reason", where)};
    d.label = Name{text(j, "label", where)};
    const json& bindings = list(j, "bindings", where);
    for (std::size_t k = 0; k < bindings.size(); ++k) {
      const std::string at = where + "/bindings/" + std::to_string(k);
      const int binding = number<int>(bindings[k], "binding", at);
      const int slot = number<int>(bindings[k], "slot", at);
      if (binding < 0 || binding >= max_bindings) fail(at + "/binding", "is outside 0.." + std::to_string(max_bindings - 1));
      if (slot < 0 || std::size_t(slot) >= s.slots.size()) fail(at + "/slot", "names no slot");
      d.slots[std::size_t(binding)] = slot;
      d.access[std::size_t(binding)] = named(bindings[k], "access", at, accesses, access_text);
    }
    fill(d.push_constants, j, "push_constants", where);
    fill(d.specialization, j, "specialization", where);
    fill(d.covers, j, "cover_ids", where);
    const json& groups = field(j, "workgroups", where);
    if (!groups.is_array() || groups.size() != 3) fail(where + "/workgroups", "is not three counts");
    for (std::size_t k = 0; k < 3; ++k) {
      if (!groups[k].is_number_unsigned() || !std::in_range<std::uint32_t>(groups[k].get<std::uint64_t>()))
        fail(where + "/workgroups", "is not three counts");
      d.workgroups[k] = groups[k].get<std::uint32_t>();
    }
    d.flops = number<double>(j, "flops", where);
    d.bytes = number<double>(j, "bytes", where);
    d.barrier_after = flag(j, "barrier_after", where);
    if (j.contains("program")) d.program = number<int>(j, "program", where);
    s.dispatches.push_back(d);
  }
  if (doc.contains("programs")) {
    const json& programs = list(doc, "programs", "");
    for (std::size_t i = 0; i < programs.size(); ++i) s.programs.push_back(program_of(programs[i], "programs/" + std::to_string(i)));
  }
  if (doc.contains("repeats")) {
    const json& repeats = list(doc, "repeats", "");
    if (repeats.size() > max_repeats) fail("repeats", "holds more than " + std::to_string(max_repeats) + " bodies");
    for (std::size_t i = 0; i < repeats.size(); ++i) {
      const std::string where = "repeats/" + std::to_string(i);
      RepeatRange r;
      r.first = number<int>(repeats[i], "first", where);
      r.count = number<int>(repeats[i], "count", where);
      r.iterations = number<int>(repeats[i], "iterations", where);
      const json& carried = list(repeats[i], "carried", where);
      if (carried.size() != 2) fail(where + "/carried", "must be [the slot a body starts from, the slot of its result]");
      r.carried_in = carried[0].get<int>();
      r.carried_out = carried[1].get<int>();
      s.repeats.push_back(r);
    }
  }
  if (doc.contains("remarks")) {
    const json& remarks = list(doc, "remarks", "");
    for (std::size_t i = 0; i < remarks.size(); ++i) {
      const std::string where = "remarks/" + std::to_string(i);
      const std::string value = text(remarks[i], "value", where), said = text(remarks[i], "text", where);
      if (value.size() > Name::capacity() || said.size() > RemarkText::capacity())
        fail(where, "is longer than a remark holds");
      Remark r;
      r.value = Name{value};
      r.text.append(said);
      s.remarks.push_back(r);
    }
  }
  return s;
}

}  // namespace

Schedule schedule_from_json(const std::string& document) {
  Schedule s;
  try {
    s = parse_schedule(document);
  } catch (const json::exception& e) {  // a value of the wrong type or range
    fail("document", e.what());
  }
  try {
    check_schedule(s);  // the document may be well formed and still not make sense
  } catch (const ScheduleError& e) {
    fail("the schedule", e.what());
  }
  return s;
}

}  // namespace vkattn
