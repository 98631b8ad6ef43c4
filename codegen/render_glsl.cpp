// The GLSL renderer: every op an expression can hold maps to its source text in one
// table (glsl_form), plus an interval form of the integer and boolean ops for block
// skipping (interval_form). Nothing else in the project writes GLSL at run time.
#include "vkattn/codegen/render.hpp"

#include <bit>
#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <vector>

#include "vkattn/elementwise_forms.hpp"
#include "vkattn/kernels/registry.hpp"

namespace vkattn {
namespace {

std::string float_literal(double value) {
  char text[48];
  std::snprintf(text, sizeof text, "uintBitsToFloat(0x%08xu)", std::bit_cast<std::uint32_t>(float(value)));
  return text;
}

std::string int_literal(double value) {
  const long long v = (long long)value;
  return v < 0 ? "(" + std::to_string(v) + ")" : std::to_string(v);
}

const char* glsl_type(DType dtype) {
  switch (dtype) {
    case DType::f32:
    case DType::f16: return "float";
    case DType::i32: return "int";
    case DType::boolean: return "bool";
  }
  return "float";
}

std::string var(int node) { return "v" + std::to_string(node); }
std::string coordinate(const char* c, int axis) { return std::string(c) + "[" + std::to_string(axis) + "]"; }

// The size of one axis of tensor t, as GLSL.
std::string extent_text(const ExprExtent& x, int axis) {
  switch (x.kind) {
    case ExprExtent::Kind::one: return "1";
    case ExprExtent::Kind::coordinate: return coordinate("e", axis);
    case ExprExtent::Kind::fixed: return std::to_string(x.size);
    case ExprExtent::Kind::push: return "int(p.extents[" + std::to_string(x.size) + "])";
  }
  return "1";
}

// Element index of tensor t at coordinates `c` (Horner form over its non-broadcast
// axes); a gathered axis takes `gathered_at` instead of its coordinate.
std::string element_index(const ExprTensor& t, const char* c, const std::string& gathered_at = "") {
  std::string index;
  for (int axis = 0; axis < max_rank; ++axis) {
    const ExprExtent& x = t.extents[std::size_t(axis)];
    if (x.kind == ExprExtent::Kind::one) continue;
    const std::string at = axis == t.gathered ? gathered_at : coordinate(c, axis);
    index = index.empty() ? at : "(" + index + ") * " + extent_text(x, axis) + " + " + at;
  }
  return index.empty() ? "0" : index;
}

std::string read_tensor(const ExprTensor& t, int index, const std::string& at) {
  const std::string element = "g" + std::to_string(index) + "[" + at + "]";
  if (is_float(t.dtype)) return "float(" + element + ")";
  if (t.dtype == DType::boolean) return "(" + element + " != 0)";
  return element;
}

// A table form with $0, $1, $2 replaced by the operands' variables; an integer operand
// of a float op's literal (max($0, 0.0) of an int) never occurs: the table's float
// literals belong to float-only ops.
template <typename Operand>
std::string substitute(std::string_view form, const ExprNode& node, Operand a) {
  std::string text;
  for (std::size_t i = 0; i < form.size(); ++i) {
    if (form[i] == '$' && i + 1 < form.size() && form[i + 1] >= '0' && form[i + 1] <= '2') {
      const int arg = form[i + 1] - '0';
      if (node.args[std::size_t(arg)] < 0) throw std::logic_error("vkattn: a generated op misses an operand");
      text += a(arg);
      ++i;
    } else {
      text += form[i];
    }
  }
  return text;
}

// The GLSL of node n (its operands already in variables).
std::string glsl_form(const Expression& e, int n) {
  const ExprNode& node = e.node(n);
  auto a = [&](int i) { return var(node.args[std::size_t(i)]); };
  const DType operand = node.args[0] >= 0 ? e.node(node.args[0]).dtype : node.dtype;
  if (const ElementwiseForm form = elementwise_form(node.op); form.known) return substitute(form.glsl, node, a);
  switch (node.op) {
    case Op::matmul: return node.axis == accumulator_second_half ? "s1" : "s";
    case Op::input: {
      const ExprTensor& t = e.tensors[std::size_t(node.tensor)];
      return read_tensor(t, node.tensor, element_index(t, "c"));
    }
    case Op::gather: {
      const ExprTensor& t = e.tensors[std::size_t(node.tensor)];
      const std::string entries = extent_text(t.extents[std::size_t(t.gathered)], t.gathered);
      return read_tensor(t, node.tensor, element_index(t, "c", "clamp(" + a(0) + ", 0, " + entries + " - 1)"));
    }
    case Op::constant: return node.dtype == DType::i32 ? int_literal(node.value) : float_literal(node.value);
    case Op::query_index:
      return node.align == CausalAlign::bottom_right ? "(c[2] + sqk.y - sqk.x)" : "c[2]";
    case Op::key_index: return "c[3]";
    case Op::head_index: return "c[1]";
    case Op::batch_index: return "c[0]";
    case Op::scale: return "(" + a(0) + " * " + float_literal(node.value) + ")";
    case Op::floor_div:
      return operand == DType::i32 ? "vkattn_floor_div(" + a(0) + ", " + a(1) + ")" : "floor(" + a(0) + " / " + a(1) + ")";
    case Op::where: return "(" + a(0) + " ? " + a(1) + " : " + a(2) + ")";
    case Op::cast: return std::string(glsl_type(node.to)) + "(" + a(0) + ")";
    default: break;
  }
  throw std::logic_error("vkattn: no GLSL form for the op " + std::string(op_name(node.op)) + " in generated code");
}

// The nodes `need` marks, in order.
std::vector<int> needed(const Expression& e, const std::array<bool, max_expression_nodes>& need) {
  std::vector<int> order;
  for (int n = 0; n < int(e.nodes.size()); ++n)
    if (need[std::size_t(n)]) order.push_back(n);
  return order;
}

// Nodes `root` depends on, in order.
std::vector<int> needed(const Expression& e, int root) { return needed(e, e.needs(root)); }

std::string assignment(const Expression& e, int n) {
  return "  " + std::string(glsl_type(e.node(n).dtype)) + " " + var(n) + " = " + glsl_form(e, n) + ";\n";
}

std::string body(const Expression& e, int root) {
  std::string text;
  for (int n : needed(e, root)) text += assignment(e, n);
  return text + "  return " + var(root) + ";\n";
}

// The interval form of the predicate: an int node is ivec2(lowest, highest), a bool
// node bvec2(can be false, can be true); float nodes are unknown. iv_* (below) keep
// `unknown` (beyond +-2^30) absorbing, so nothing overflows.
std::string interval_form(const Expression& e, int n) {
  const ExprNode& node = e.node(n);
  auto r = [&](int i) { return "r" + std::to_string(node.args[std::size_t(i)]); };
  auto is_int = [&](int i) { return e.node(node.args[std::size_t(i)]).dtype == DType::i32; };
  const bool boolean = node.dtype == DType::boolean, integer = node.dtype == DType::i32;
  const std::string unknown = boolean ? "bvec2(true)" : "IV_UNKNOWN";
  switch (node.op) {
    case Op::constant: return integer ? "ivec2(" + int_literal(node.value) + ")" : unknown;
    case Op::query_index:
      return node.align == CausalAlign::bottom_right ? "ivec2(lo[2], hi[2]) + (sqk.y - sqk.x)" : "ivec2(lo[2], hi[2])";
    case Op::key_index: return "ivec2(lo[3], hi[3])";
    case Op::head_index: return "ivec2(lo[1], hi[1])";
    case Op::batch_index: return "ivec2(lo[0], hi[0])";
    case Op::input: {  // exact where it varies only with b and h, which a block holds fixed
      const ExprTensor& t = e.tensors[std::size_t(node.tensor)];
      if (is_float(t.dtype) || t.extents[2].kind != ExprExtent::Kind::one || t.extents[3].kind != ExprExtent::Kind::one)
        return unknown;
      const std::string v = read_tensor(t, node.tensor, element_index(t, "lo"));
      return boolean ? "bvec2(!" + v + ", " + v + ")" : "ivec2(" + v + ")";
    }
    case Op::gather: {
      const ExprTensor& t = e.tensors[std::size_t(node.tensor)];
      if (!integer || t.gathered != max_rank - 1 || t.extents[2].kind != ExprExtent::Kind::one) return unknown;
      const std::string entries = extent_text(t.extents[max_rank - 1], max_rank - 1);
      return "iv_gather_" + std::to_string(node.tensor) + "(" + element_index(t, "lo", "0") + ", " +
             r(0) + ", " + entries + ")";
    }
    case Op::add: return integer ? "iv_add(" + r(0) + ", " + r(1) + ")" : unknown;
    case Op::sub: return integer ? "iv_sub(" + r(0) + ", " + r(1) + ")" : unknown;
    case Op::mul: return integer ? "iv_mul(" + r(0) + ", " + r(1) + ")" : unknown;
    case Op::floor_div: return integer ? "iv_floor_div(" + r(0) + ", " + r(1) + ")" : unknown;
    case Op::minimum: return integer ? "iv_min(" + r(0) + ", " + r(1) + ")" : unknown;
    case Op::maximum: return integer ? "iv_max(" + r(0) + ", " + r(1) + ")" : unknown;
    case Op::abs: return integer ? "iv_abs(" + r(0) + ")" : unknown;
    case Op::less: return is_int(0) ? "iv_less(" + r(0) + ", " + r(1) + ")" : unknown;
    case Op::less_equal: return is_int(0) ? "iv_less_equal(" + r(0) + ", " + r(1) + ")" : unknown;
    case Op::equal: return is_int(0) ? "iv_equal(" + r(0) + ", " + r(1) + ")" : unknown;
    case Op::logical_and: return "bvec2(" + r(0) + ".x || " + r(1) + ".x, " + r(0) + ".y && " + r(1) + ".y)";
    case Op::logical_or: return "bvec2(" + r(0) + ".x && " + r(1) + ".x, " + r(0) + ".y || " + r(1) + ".y)";
    case Op::logical_not: return r(0) + ".yx";
    case Op::where:
      if (boolean) return "iv_where_bool(" + r(0) + ", " + r(1) + ", " + r(2) + ")";
      return integer ? "iv_where(" + r(0) + ", " + r(1) + ", " + r(2) + ")" : unknown;
    case Op::cast:
      if (integer && e.node(node.args[0]).dtype == DType::boolean)
        return "ivec2(" + r(0) + ".x ? 0 : 1, " + r(0) + ".y ? 1 : 0)";
      if (integer && e.node(node.args[0]).dtype == DType::i32) return r(0);
      return unknown;
    default: return unknown;
  }
}

const char* interval_helpers = R"(const int IV_LIMIT = 1 << 30;
const ivec2 IV_UNKNOWN = ivec2(-IV_LIMIT, IV_LIMIT);
bool iv_known(ivec2 a) { return a.x > -IV_LIMIT && a.y < IV_LIMIT; }
ivec2 iv_checked(ivec2 a) { return iv_known(a) ? a : IV_UNKNOWN; }
ivec2 iv_add(ivec2 a, ivec2 b) { return iv_known(a) && iv_known(b) ? iv_checked(a + b) : IV_UNKNOWN; }
ivec2 iv_sub(ivec2 a, ivec2 b) { return iv_known(a) && iv_known(b) ? iv_checked(ivec2(a.x - b.y, a.y - b.x)) : IV_UNKNOWN; }
ivec2 iv_mul(ivec2 a, ivec2 b) {
  const int small = 1 << 15;
  if (!iv_known(a) || !iv_known(b) || max(abs(a.x), abs(a.y)) >= small || max(abs(b.x), abs(b.y)) >= small) return IV_UNKNOWN;
  int p0 = a.x * b.x, p1 = a.x * b.y, p2 = a.y * b.x, p3 = a.y * b.y;
  return ivec2(min(min(p0, p1), min(p2, p3)), max(max(p0, p1), max(p2, p3)));
}
ivec2 iv_floor_div(ivec2 a, ivec2 b) {
  if (!iv_known(a) || !iv_known(b) || (b.x <= 0 && b.y >= 0)) return IV_UNKNOWN;
  int p0 = vkattn_floor_div(a.x, b.x), p1 = vkattn_floor_div(a.x, b.y), p2 = vkattn_floor_div(a.y, b.x), p3 = vkattn_floor_div(a.y, b.y);
  return ivec2(min(min(p0, p1), min(p2, p3)), max(max(p0, p1), max(p2, p3)));
}
ivec2 iv_min(ivec2 a, ivec2 b) { return ivec2(min(a.x, b.x), min(a.y, b.y)); }
ivec2 iv_max(ivec2 a, ivec2 b) { return ivec2(max(a.x, b.x), max(a.y, b.y)); }
ivec2 iv_abs(ivec2 a) {
  if (!iv_known(a)) return IV_UNKNOWN;
  if (a.x >= 0) return a;
  if (a.y <= 0) return ivec2(-a.y, -a.x);
  return ivec2(0, max(-a.x, a.y));
}
bvec2 iv_less(ivec2 a, ivec2 b) { return bvec2(a.y >= b.x, a.x < b.y); }
bvec2 iv_less_equal(ivec2 a, ivec2 b) { return bvec2(a.y > b.x, a.x <= b.y); }
bvec2 iv_equal(ivec2 a, ivec2 b) {
  bool exact = a.x == a.y && b.x == b.y && a.x == b.x && iv_known(a);
  return bvec2(!exact, a.x <= b.y && b.x <= a.y);
}
ivec2 iv_where(bvec2 c, ivec2 a, ivec2 b) {
  if (!c.x) return a;
  if (!c.y) return b;
  return ivec2(min(a.x, b.x), max(a.y, b.y));
}
bvec2 iv_where_bool(bvec2 c, bvec2 a, bvec2 b) {
  if (!c.x) return a;
  if (!c.y) return b;
  return bvec2(a.x || b.x, a.y || b.y);
}
)";

const char* floor_div_helper = R"(int vkattn_floor_div(int a, int b) {
  if (b == 0) return 0;
  int q = abs(a) / abs(b);
  if ((a < 0) != (b < 0)) return abs(a) % abs(b) == 0 ? -q : -q - 1;
  return q;
}
)";

// The element type of a buffer a program reads: its tensors' float dtypes are their
// elements on the device (ScheduleBuilder::add_program), so one dispatch may read f16
// and f32 tensors side by side; integers and bools are int.
const char* buffer_element(DType dtype) {
  if (dtype == DType::f16) return "float16_t";
  return is_float(dtype) ? "float" : "int";
}

// The tensors' buffers, each at its binding, each of its own element type (16-bit
// storage enabled for f16 ones in either build of the shader).
std::string buffers(const Expression& e) {
  std::string text;
  bool half = false;
  for (const ExprTensor& tensor : e.tensors) half = half || tensor.dtype == DType::f16;
  for (const ExprOutput& out : e.outputs) half = half || out.dtype == DType::f16;
  if (half) text += "#extension GL_EXT_shader_16bit_storage : require\n";
  for (std::size_t t = 0; t < e.tensors.size(); ++t) {
    const ExprTensor& tensor = e.tensors[t];
    const std::string name = "g" + std::to_string(t);
    text += "layout(std430, binding = " + std::to_string(tensor.binding) + ") readonly buffer G" +
            std::to_string(t) + " { " + buffer_element(tensor.dtype) + " " + name + "[]; };\n";
  }
  return text;
}

// min and max of an integer table's entries base + [range.x, range.y] (clamped), for
// the interval form of a gather; unknown past 256 entries.
std::string gather_bounds(const Expression& e) {
  std::string text;
  for (std::size_t t = 0; t < e.tensors.size(); ++t) {
    const ExprTensor& tensor = e.tensors[t];
    if (tensor.gathered != max_rank - 1 || tensor.dtype != DType::i32) continue;
    const std::string name = "g" + std::to_string(t);
    text += "ivec2 iv_gather_" + std::to_string(t) + "(int base, ivec2 range, int n) {\n"
            "  if (!iv_known(range)) return IV_UNKNOWN;\n"
            "  int first = clamp(range.x, 0, n - 1), last = clamp(range.y, 0, n - 1);\n"
            "  if (last - first > 256) return IV_UNKNOWN;\n"
            "  ivec2 r = ivec2(" + name + "[base + first]);\n"
            "  for (int k = first + 1; k <= last; ++k) {\n"
            "    int v = " + name + "[base + k];\n"
            "    r = ivec2(min(r.x, v), max(r.y, v));\n"
            "  }\n"
            "  return r;\n}\n";
  }
  return text;
}

std::string header(const Expression& e, int root, const char* what) {
  return "// Generated by vkattn (codegen/render_glsl.cpp): " + std::string(what) + "\n//   " +
         expression_text(e, root) + "\n";
}

}  // namespace

std::string render_score_program(const Expression& e) {
  std::string text = header(e, e.visible >= 0 ? e.visible : e.value, "a score program");
  if (e.visible >= 0 && e.value >= 0) text += "//   value: " + expression_text(e, e.value) + "\n";
  text += buffers(e);
  text += floor_div_helper;
  if (e.visible >= 0) {
    text += "#define VKATTN_SCORE_VISIBLE 1\n";
    text += "bool score_visible(ivec4 c, ivec4 e, ivec2 sqk) {\n" + body(e, e.visible) + "}\n";
    text += interval_helpers + gather_bounds(e);
    text += "bool score_block_visible(ivec4 lo, ivec4 hi, ivec4 e, ivec2 sqk) {\n";
    for (int n : needed(e, e.visible)) {
      const DType dtype = e.node(n).dtype;
      if (is_float(dtype)) continue;
      text += "  " + std::string(dtype == DType::boolean ? "bvec2" : "ivec2") + " r" + std::to_string(n) + " = " +
              interval_form(e, n) + ";\n";
    }
    text += "  return r" + std::to_string(e.visible) + ".y;\n}\n";
  }
  if (e.value >= 0) {
    text += "#define VKATTN_SCORE_VALUE 1\n";
    text += "float score_value(float s, ivec4 c, ivec4 e, ivec2 sqk) {\n" + body(e, e.value) + "}\n";
  }
  return text;
}

std::string render_pointwise(const Expression& e) {
  const DType result = e.node(e.value).dtype;
  std::string text = header(e, e.value, "a pointwise kernel");
  for (std::size_t o = 0; o < e.outputs.size(); ++o)
    text += "//   also o" + std::to_string(o) + " = " + expression_text(e, e.outputs[o].node) + "\n";
  // The result in the dispatch's element type (its slot's: STORE); further outputs in
  // their own.
  text += std::string("layout(std430, binding = 0) writeonly buffer Result { ") + (is_float(result) ? "STORE" : "int") +
          " result_values[]; };\n";
  text += buffers(e);
  for (std::size_t o = 0; o < e.outputs.size(); ++o)
    text += "layout(std430, binding = " + std::to_string(e.outputs[o].binding) + ") writeonly buffer O" +
            std::to_string(o) + " { " + buffer_element(e.outputs[o].dtype) + " o" + std::to_string(o) + "[]; };\n";
  text += floor_div_helper;
  // Every node the stored values need, once, then the stores.
  text += "void vkattn_store_all(uint at, ivec4 c, ivec4 e, ivec2 sqk) {\n";
  for (int n : needed(e, e.needs_stored())) text += assignment(e, n);
  text += "  result_values[at] = " + std::string(is_float(result) ? "STORE(" : "int(") + var(e.value) + ");\n";
  for (std::size_t o = 0; o < e.outputs.size(); ++o)
    text += "  o" + std::to_string(o) + "[at] = " + buffer_element(e.outputs[o].dtype) + "(" + var(e.outputs[o].node) + ");\n";
  return text + "}\n";
}

std::string render_epilogue(const Expression& e) {
  std::string text = "// Generated by vkattn (codegen/render_glsl.cpp): a GEMM's\n";
  text += "//   epilogue: " + (e.value >= 0 ? expression_text(e, e.value) : std::string("acc")) + "\n";
  if (e.prologue >= 0) text += "//   prologue: " + expression_text(e, e.prologue) + "\n";
  text += buffers(e);
  text += floor_div_helper;
  text += "float vkattn_epilogue(float s, float s1, uint at) {\n";
  if (e.value >= 0)
    text += "  const ivec4 e = ivec4(p.dims[0], p.dims[1], p.dims[2], p.dims[3]);\n"
            "  const ivec4 c = vkattn_coordinates(at, e);\n"
            "  const ivec2 sqk = ivec2(e[2], e[3]);\n" +
            body(e, e.value);
  else
    text += "  return s;\n";
  text += "}\n";
  if (e.prologue >= 0) {
    // c: the coordinates of A's element (A's logical shape, aligned to four axes).
    text += "#define VKATTN_PROLOGUE 1\n"
            "float vkattn_prologue(float s, ivec4 c) {\n"
            "  const ivec4 e = ivec4(p.a_dims[0], p.a_dims[1], p.a_dims[2], p.a_dims[3]);\n" +
            body(e, e.prologue) + "}\n";
    text += "// The coordinates of row `row` of A (z * M + m) at column 0.\n"
            "ivec4 vkattn_prologue_row(uint row) {\n"
            "  return vkattn_coordinates(row * p.K, ivec4(p.a_dims[0], p.a_dims[1], p.a_dims[2], p.a_dims[3]));\n"
            "}\n"
            "// Elements k.. k + 3 of the row at `row_at` as loaded; those past K stay 0.\n"
            "vec4 vkattn_prologue4(vec4 a, ivec4 row_at, uint k) {\n"
            "  [[unroll]] for (uint i = 0u; i < 4u; ++i)\n"
            "    if (k + i < p.K) a[i] = vkattn_prologue(a[i], ivec4(row_at.xyz, int(k + i)));\n"
            "  return a;\n"
            "}\n";
  }
  return text;
}

std::string render_generated(Kernel kernel, const Expression& e) {
  switch (kernel) {
    case Kernel::flash_attention: return render_score_program(e);
    case Kernel::gemm: return render_epilogue(e);
    default: return render_pointwise(e);
  }
}

std::string expression_text(const Expression& e, int root) {
  if (root < 0) return "s";
  const ExprNode& node = e.node(root);
  auto a = [&](int i) { return expression_text(e, node.args[std::size_t(i)]); };
  auto infix = [&](const char* op) { return "(" + a(0) + " " + op + " " + a(1) + ")"; };
  switch (node.op) {
    case Op::matmul:
      switch (node.axis) {
        case accumulator_first_half: return "acc[:, :N]";
        case accumulator_second_half: return "acc[:, N:]";
        case accumulator_whole: return "acc";
        case a_operand_element: return "a";
        default: return "s";
      }
    case Op::input: return "t" + std::to_string(node.tensor);
    case Op::gather: {  // t[index] along the last axis; t[index, :] a row along the one before it
      const ExprTensor& t = e.tensors[std::size_t(node.tensor)];
      std::string text = "t" + std::to_string(node.tensor) + "[" + a(0);
      for (int axis = t.gathered + 1; axis < max_rank; ++axis) text += ", :";
      return text + "]";
    }
    case Op::constant: {
      if (std::isinf(node.value)) return node.value < 0 ? "-inf" : "inf";
      char text[32];
      std::snprintf(text, sizeof text, "%g", node.value);
      return text;
    }
    case Op::query_index: return node.align == CausalAlign::bottom_right ? "i'" : "i";
    case Op::key_index: return "j";
    case Op::head_index: return "h";
    case Op::batch_index: return "b";
    case Op::add: return infix("+");
    case Op::sub: return infix("-");
    case Op::mul: return infix("*");
    case Op::floor_div: return infix("//");
    case Op::less: return infix("<");
    case Op::less_equal: return infix("<=");
    case Op::equal: return infix("==");
    case Op::logical_and: return infix("and");
    case Op::logical_or: return infix("or");
    case Op::logical_not: return "not " + a(0);
    case Op::scale: {
      char text[32];
      std::snprintf(text, sizeof text, "%g", node.value);
      return "(" + a(0) + " * " + text + ")";
    }
    case Op::cast: return std::string(dtype_name(node.to)) + "(" + a(0) + ")";
    default: break;
  }
  std::string text = std::string(op_name(node.op)) + "(";
  for (int i = 0; i < 3 && node.args[std::size_t(i)] >= 0; ++i) text += (i ? ", " : "") + a(i);
  return text + ")";
}

}  // namespace vkattn
