// check_schedule: every rule a schedule must keep before a device runs it. Sizes are
// computed in 128-bit arithmetic so that no product of untrusted numbers wraps.
#include "vkattn/schedule_check.hpp"

#include <string>
#include <vector>

namespace vkattn {

namespace {

using Wide = __int128;

[[noreturn]] void fail(const std::string& where, const std::string& what) { throw ScheduleError(where + ": " + what); }

std::string text(Wide v) {
  if (v == 0) return "0";
  bool negative = v < 0;
  std::string digits;
  for (Wide x = negative ? -v : v; x > 0; x /= 10) digits.insert(digits.begin(), char('0' + int(x % 10)));
  return negative ? "-" + digits : digits;
}

Wide elements(const Shape& shape, const std::string& where) {
  if (shape.rank < 0 || shape.rank > max_rank) fail(where, "has rank " + std::to_string(shape.rank));
  Wide n = 1;
  for (int i = 0; i < shape.rank; ++i) {
    if (shape[i] < 0) fail(where, "has a negative dimension");
    n *= shape[i];
    if (n > (Wide(1) << 48)) fail(where, "has more elements than any device can hold");
  }
  return n;
}

// One command buffer's worth: every iteration of every body is recorded.
constexpr std::size_t max_executed_dispatches = 65536;

class Checker {
 public:
  explicit Checker(const Schedule& s) : s_(s) {}

  void run() {
    if (s_.arena_bytes < 0 || s_.weight_bytes < 0) fail("memory", "a buffer size is negative");
    for (std::size_t i = 0; i < s_.slots.size(); ++i) slot(i);
    for (std::size_t i = 0; i < s_.programs.size(); ++i) program(i);
    for (std::size_t i = 0; i < s_.dispatches.size(); ++i) dispatch(i);
    for (std::size_t i = 0; i < s_.repeats.size(); ++i) repeat(i);
    per_iteration_slots();
    if (s_.executed_dispatch_count() > max_executed_dispatches)
      fail("repeats", "make a run of " + std::to_string(s_.executed_dispatch_count()) + " dispatches; a run holds at most " +
                          std::to_string(max_executed_dispatches));
  }

 private:
  void slot(std::size_t i) {
    const TensorSlot& t = s_.slots[i];
    const std::string where = "slot " + std::to_string(i) + " ('" + std::string(t.name.view()) + "')";
    const Wide n = elements(t.shape, where + " shape");
    if (!is_float(t.dtype) != (t.element == DType::i32))
      fail(where, "holds " + std::string(dtype_name(t.dtype)) + " values as " + std::string(dtype_name(t.element)));
    // At least the shape's elements: a slot planned for the bounds of dynamic
    // dimensions holds more than a run at smaller sizes uses.
    if (Wide(t.bytes) < n * storage_bytes(t.element) ||
        (!t.shape.any_dynamic() && Wide(t.bytes) != n * storage_bytes(t.element)))
      fail(where + " bytes", "is " + std::to_string(t.bytes) + " but " + text(n) + " " +
                                 std::string(dtype_name(t.element)) + " elements need " + text(n * storage_bytes(t.element)));
    if (t.offset < 0 || t.offset % slot_alignment != 0)
      fail(where + " offset", "is " + std::to_string(t.offset) + ", not a non-negative multiple of " +
                                  std::to_string(slot_alignment));
    const std::int64_t buffer = t.storage == Storage::weights ? s_.weight_bytes : s_.arena_bytes;
    if (Wide(t.offset) + t.bytes > buffer)
      fail(where, "ends at byte " + text(Wide(t.offset) + t.bytes) + ", past the " + std::to_string(buffer) + " bytes of " +
                      (t.storage == Storage::weights ? "the weights" : "the arena"));
    if ((t.role == SlotRole::weight) != (t.storage == Storage::weights))
      fail(where, "is a " + std::string(role_name(t.role)) + " in the wrong buffer");
    if (!t.parts.empty()) {
      Wide sum = 0;
      for (const PackedPart& part : t.parts) sum += elements(part.shape, where + " part");
      if (sum != n) fail(where + " packed_from", "parts hold " + text(sum) + " elements, the slot " + text(n));
    }
  }

  // A repeated body: dispatches in range, after the previous body, run at least once;
  // two distinct carried slots of one shape, in the arena, that no input, weight or state
  // is (the runtime alternates them; the result's may be an output).
  void repeat(std::size_t i) const {
    const RepeatRange& r = s_.repeats[i];
    const std::string where = "repeat " + std::to_string(i);
    const int previous_end = i == 0 ? 0 : s_.repeats[i - 1].first + s_.repeats[i - 1].count;
    if (r.count < 1 || r.first < previous_end || Wide(r.first) + r.count > Wide(s_.dispatches.size()))
      fail(where, "covers dispatches " + std::to_string(r.first) + " to " + text(Wide(r.first) + r.count - 1) +
                      ", not a run of dispatches after the previous body among the " +
                      std::to_string(s_.dispatches.size()));
    if (r.iterations < 1 || r.iterations > 65536)
      fail(where, "runs " + std::to_string(r.iterations) + " times; a body runs 1 to 65536 times");
    for (int slot : {r.carried_in, r.carried_out}) {
      if (slot < 0 || std::size_t(slot) >= s_.slots.size())
        fail(where + " carried", "names slot " + std::to_string(slot) + ", which does not exist");
      const SlotRole role = s_.slots[std::size_t(slot)].role;
      if (role != SlotRole::intermediate && !(slot == r.carried_out && role == SlotRole::output))
        fail(where + " carried", "names slot " + std::to_string(slot) + ", a " + std::string(role_name(role)) +
                                     "; carried values are intermediates of the arena (the result may be an output)");
    }
    const TensorSlot& in = s_.slots[std::size_t(r.carried_in)];
    const TensorSlot& out = s_.slots[std::size_t(r.carried_out)];
    if (r.carried_in == r.carried_out || !(in.shape == out.shape) || in.element != out.element)
      fail(where + " carried", "needs two distinct slots of one shape and element type");
  }

  // A per-iteration slot (`{i}` in its name) is bound by the dispatches of one repeated
  // body only: the runtime makes one copy of it per iteration of that body.
  void per_iteration_slots() const {
    std::vector<int> body(s_.slots.size(), -2);  // -2: not bound yet
    for (std::size_t d = 0; d < s_.dispatches.size(); ++d) {
      const int r = s_.repeat_of(d);
      for (int slot : s_.dispatches[d].slots) {
        if (slot < 0 || std::size_t(slot) >= s_.slots.size() || !is_per_iteration(s_.slots[std::size_t(slot)])) continue;
        const std::string where = "slot " + std::to_string(slot) + " ('" + std::string(s_.slots[std::size_t(slot)].name.view()) + "')";
        if (r < 0)
          fail(where, "is one tensor per iteration ({i} in its name) but dispatch " + std::to_string(d) +
                          ", outside every repeated body, binds it");
        if (body[std::size_t(slot)] != -2 && body[std::size_t(slot)] != r)
          fail(where, "is one tensor per iteration ({i} in its name) but two repeated bodies bind it");
        body[std::size_t(slot)] = r;
      }
    }
  }

  // The shape of generated code: every operand before its user, every tensor and
  // coordinate named exists, and only ops the renderer knows.
  void program(std::size_t i) const {
    const Expression& e = s_.programs[i];
    const std::string where = "program " + std::to_string(i);
    const int n = int(e.nodes.size());
    for (int k = 0; k < n; ++k) {
      const ExprNode& node = e.node(k);
      const std::string at = where + " node " + std::to_string(k);
      if (std::size_t(node.op) >= std::size_t(op_count)) fail(at, "has an unknown op");
      for (int a = 0; a < 3; ++a) {
        const int arg = node.args[std::size_t(a)];
        if (arg < -1 || arg >= k) fail(at, "reads node " + std::to_string(arg) + ", which does not come before it");
        if ((a < op_arity(node.op)) != (arg >= 0) && node.op != Op::gather && node.op != Op::input &&
            op_group(node.op) != OpGroup::index && node.op != Op::matmul)
          fail(at, std::string(op_name(node.op)) + " has the wrong number of operands");
      }
      const bool reads_tensor = node.op == Op::input || node.op == Op::gather;
      if (reads_tensor && (node.tensor < 0 || node.tensor >= int(e.tensors.size())))
        fail(at, "reads tensor " + std::to_string(node.tensor) + ", which the program does not have");
      if (node.op == Op::gather && (node.args[0] < 0 || e.tensors[std::size_t(node.tensor)].gathered < 0))
        fail(at, "gathers without an index or from a tensor that is no table");
      const bool known = node.op == Op::matmul || reads_tensor || op_group(node.op) == OpGroup::index ||
                         op_group(node.op) == OpGroup::pointwise || op_group(node.op) == OpGroup::activation ||
                         node.op == Op::add || node.op == Op::mul || node.op == Op::scale;
      if (!known) fail(at, std::string(op_name(node.op)) + " cannot be generated code");
      if (op_group(node.op) == OpGroup::index && node.op != Op::constant && (node.axis < 0 || node.axis >= max_rank))
        fail(at, "indexes coordinate " + std::to_string(node.axis));
    }
    for (std::size_t t = 0; t < e.tensors.size(); ++t)
      if (e.tensors[t].binding < 1 || e.tensors[t].binding >= max_bindings)
        fail(where + " tensor " + std::to_string(t), "is at binding " + std::to_string(e.tensors[t].binding));
    if (e.value < -1 || e.value >= n || e.visible < -1 || e.visible >= n || e.prologue < -1 || e.prologue >= n)
      fail(where, "names a result node it does not have");
    if (e.visible >= 0 && e.node(e.visible).dtype != DType::boolean) fail(where, "hides keys by a value that is not bool");
    for (std::size_t o = 0; o < e.outputs.size(); ++o) {
      const ExprOutput& out = e.outputs[o];
      const std::string at = where + " output " + std::to_string(o);
      if (out.node < 0 || out.node >= n) fail(at, "stores node " + std::to_string(out.node) + ", which the program does not have");
      if (out.binding < 1 || out.binding >= max_bindings) fail(at, "is at binding " + std::to_string(out.binding));
      if (out.dtype == DType::boolean) fail(at, "is stored as bool; bools are stored as i32");
      bool shared = false;  // a binding written here and read or written elsewhere in the program
      for (const ExprTensor& t : e.tensors) shared = shared || t.binding == out.binding;
      for (std::size_t other = 0; other < o; ++other) shared = shared || e.outputs[other].binding == out.binding;
      if (shared) fail(at, "shares binding " + std::to_string(out.binding) + " with another tensor of the program");
    }
  }

  // Tensors a dispatch's program reads lie inside their bindings, for coordinates of
  // sizes `sizes` and the pointwise kernel's push-constant extents.
  // With `root` >= 0, only the tensors that node needs (a GEMM's epilogue and prologue
  // read theirs at different coordinates).
  void program_reads(const Dispatch& d, const std::array<Wide, max_rank>& sizes, const std::uint32_t* push_extents,
                     const std::string& where, int root = -1) const {
    if (d.program < 0) return;
    if (d.program >= int(s_.programs.size())) fail(where + " program", "is " + std::to_string(d.program) + ", which does not exist");
    const Expression& e = s_.programs[std::size_t(d.program)];
    std::array<bool, max_expression_tensors> read{};
    read.fill(root < 0);
    if (root >= 0) {
      const auto needed = e.needs(root);
      for (int i = 0; i <= root && i < int(e.nodes.size()); ++i)
        if (needed[std::size_t(i)] && e.node(i).tensor >= 0 && e.node(i).tensor < int(e.tensors.size()))
          read[std::size_t(e.node(i).tensor)] = true;
    }
    for (std::size_t t = 0; t < e.tensors.size(); ++t) {
      if (!read[t]) continue;
      const ExprTensor& tensor = e.tensors[t];
      Wide count = 1;
      for (int a = 0; a < max_rank; ++a) {
        const ExprExtent& x = tensor.extents[std::size_t(a)];
        switch (x.kind) {
          case ExprExtent::Kind::one: break;
          case ExprExtent::Kind::coordinate: count *= sizes[std::size_t(a)]; break;
          case ExprExtent::Kind::fixed:
            if (x.size < 1 || x.size > (std::int64_t(1) << 40)) fail(where + " program tensor", "has a bad size");
            count *= x.size;
            break;
          case ExprExtent::Kind::push:
            if (push_extents == nullptr || x.size < 0 || x.size >= 4) fail(where + " program tensor", "has a size no push constant gives");
            count *= push_extents[x.size];
            break;
        }
      }
      if (count > 0) inside(d, tensor.binding, count, where, "a tensor of the generated code");
      // Its buffer is declared with that element: any other would be read as garbage.
      const int slot = tensor.binding >= 0 && tensor.binding < max_bindings ? d.slots[std::size_t(tensor.binding)] : -1;
      if (slot >= 0 && slot < int(s_.slots.size()) && is_float(tensor.dtype) &&
          s_.slots[std::size_t(slot)].element != tensor.dtype)
        fail(where + " program tensor " + std::to_string(t),
             "is read as " + std::string(dtype_name(tensor.dtype)) + " from a slot of " +
                 std::string(dtype_name(s_.slots[std::size_t(slot)].element)) + " elements");
    }
  }

  // A pointwise kernel's further outputs: `total` elements each, in a slot of the
  // element type its buffer declares.
  void further_outputs(const Dispatch& d, Wide total, const std::string& where) const {
    if (d.program < 0 || d.program >= int(s_.programs.size())) return;
    const Expression& e = s_.programs[std::size_t(d.program)];
    for (std::size_t o = 0; o < e.outputs.size(); ++o) {
      const ExprOutput& out = e.outputs[o];
      inside(d, out.binding, total, where, "a further output");
      const TensorSlot& slot = s_.slots[std::size_t(d.slots[std::size_t(out.binding)])];
      if (slot.element != out.dtype)
        fail(where + " program output " + std::to_string(o), "is stored as " + std::string(dtype_name(out.dtype)) +
                                                               " into a slot of " + std::string(dtype_name(slot.element)) +
                                                               " elements");
    }
  }

  // Elements of the slot at `binding` of dispatch `d`, requiring the binding.
  Wide bound(const Dispatch& d, int binding, const std::string& where, bool required = true) const {
    const int index = d.slots[std::size_t(binding)];
    if (index < 0) {
      if (required) fail(where, "has no tensor at binding " + std::to_string(binding) + ", which its kernel reads");
      return 0;
    }
    return Wide(s_.slots[std::size_t(index)].shape.elements());
  }

  // Requires the elements [first, first + count) to lie inside binding `binding`.
  void inside(const Dispatch& d, int binding, Wide last_plus_one, const std::string& where, const char* what) const {
    const Wide n = bound(d, binding, where);
    if (last_plus_one > n)
      fail(where, std::string(what) + " reaches element " + text(last_plus_one - 1) + " of binding " +
                      std::to_string(binding) + ", which holds " + text(n));
  }

  void dispatch(std::size_t i) {
    const Dispatch& d = s_.dispatches[i];
    const std::string where = "dispatch " + std::to_string(i) + " (" + std::string(d.label.view()) + ")";
    if (std::size_t(d.shader) >= shader_count) fail(where + " shader", "is not a known shader");
    const ShaderInfo& info = shader_info(d.shader);
    if (info.kernel != d.kernel) fail(where + " shader", std::string(info.name) + " does not compute " + std::string(kernel_name(d.kernel)));
    if (d.element != DType::f32 && d.element != DType::f16) fail(where + " element", "is neither f32 nor f16");
    for (int b = 0; b < max_bindings; ++b) {
      const int index = d.slots[std::size_t(b)];
      if (index < -1 || index >= int(s_.slots.size()))
        fail(where + " binding " + std::to_string(b), "names slot " + std::to_string(index) + ", which does not exist");
      if (index < 0) continue;
      const bool texel = d.access[std::size_t(b)] == Access::texel_vec4 || d.access[std::size_t(b)] == Access::texel_scalar;
      if (texel != (info.descriptors[std::size_t(b)] == Descriptor::texel))
        fail(where + " binding " + std::to_string(b), "is read as " + std::string(access_name(d.access[std::size_t(b)])) +
                                                          " but " + std::string(info.name) + " declares it otherwise");
    }
    if (d.slots[0] < 0) fail(where, "has no result at binding 0");
    if (d.kernel != Kernel::pointwise && d.program >= 0 && d.program < int(s_.programs.size()) &&
        !s_.programs[std::size_t(d.program)].outputs.empty())
      fail(where + " program", "has further outputs, which only a pointwise kernel stores");
    if (d.push_constants.size() * 4 != info.push_bytes)
      fail(where + " push_constants", "has " + std::to_string(d.push_constants.size()) + " words; " +
                                          std::string(info.name) + " declares " + std::to_string(info.push_bytes / 4));
    if (d.specialization.size() != info.constant_names.size())
      fail(where + " specialization", "has " + std::to_string(d.specialization.size()) + " constants; " +
                                          std::string(info.name) + " declares " + std::to_string(info.constant_names.size()));
    if (d.local_size() == 0 || d.local_size() > 1024) fail(where + " LOCAL_SIZE", "is " + std::to_string(d.local_size()));
    for (int axis = 0; axis < 3; ++axis)
      if (d.workgroups[std::size_t(axis)] == 0) fail(where + " workgroups", "launch no workgroup along an axis");
    extents(d, where);
  }

  // What the kernel reads and writes, from its push constants and launch.
  void extents(const Dispatch& d, const std::string& where) const {
    const std::span<const std::uint32_t> push(d.push_constants.data(), d.push_constants.size());
    const std::span<const std::uint32_t> spec(d.specialization.data(), d.specialization.size());
    const Wide invocations = Wide(d.workgroups[0]) * d.workgroups[1] * d.workgroups[2] * d.local_size();
    switch (d.shader) {
      case Shader::gemm_texel:
      case Shader::gemm_tiled: {
        const auto p = push_of<Shader::gemm_tiled>(push);  // both forms share GemmPush
        const bool transpose = spec.size() > 1 && spec[1] == 1;
        if (p.inner_count == 0) fail(where + " inner_count", "is 0");
        const Wide batches = d.workgroups[2];
        const Wide outer = (batches - 1) / p.inner_count, inner = std::min<Wide>(batches - 1, p.inner_count - 1);
        if (p.M == 0 || p.N == 0 || p.K == 0) return;
        inside(d, 0, batches * p.M * p.N, where, "C");
        inside(d, 1, Wide(p.a_offset) + outer * p.a_outer + inner * p.a_inner + Wide(p.M - 1) * p.lda + p.K, where, "A");
        const auto c = constants_of<Shader::gemm_texel>(spec);  // the common constants come first
        const bool gated = c.GATED != 0;
        if (c.GATED > 1) fail(where + " specialization GATED", "is " + std::to_string(c.GATED) + ", not 0 or 1");
        if (gated && !transpose) fail(where + " specialization GATED", "needs TRANSPOSE_B");
        const Wide b_rows = gated ? 2 * Wide(p.N) : p.N;  // both halves' rows
        inside(d, 2, Wide(p.b_offset) + outer * p.b_outer + inner * p.b_inner +
                         (transpose ? (b_rows - 1) * p.ldb + p.K : Wide(p.K - 1) * p.ldb + p.N), where, "B");
        if (c.HAS_BIAS == 1) inside(d, 3, b_rows, where, "the bias");
        if (d.program >= 0 && d.program < int(s_.programs.size())) {
          const Expression& e = s_.programs[std::size_t(d.program)];
          if (e.value >= 0) {  // the epilogue's tensors over C's coordinates
            const Wide dims = Wide(p.dims[0]) * p.dims[1] * p.dims[2] * p.dims[3];
            if (dims != batches * p.M * p.N)
              fail(where + " dims", "hold " + text(dims) + " elements, not C's " + text(batches * p.M * p.N));
            program_reads(d, {p.dims[0], p.dims[1], p.dims[2], p.dims[3]}, nullptr, where, e.value);
          }
          if (e.prologue >= 0) {  // the prologue's over A's
            const Wide a_dims = Wide(p.a_dims[0]) * p.a_dims[1] * p.a_dims[2] * p.a_dims[3];
            if (a_dims != batches * p.M * p.K)
              fail(where + " a_dims", "hold " + text(a_dims) + " elements, not A's " + text(batches * p.M * p.K));
            program_reads(d, {p.a_dims[0], p.a_dims[1], p.a_dims[2], p.a_dims[3]}, nullptr, where, e.prologue);
          }
        }
        return;
      }
      case Shader::flash_attention_texel:
      case Shader::flash_attention_tiled: {
        const auto p = push_of<Shader::flash_attention_tiled>(push);
        const auto c = constants_of<Shader::flash_attention_tiled>(spec);  // common constants first
        const Wide batch = d.workgroups[2];
        if (p.sq == 0 || p.sk == 0 || p.heads == 0) return;
        if (p.kv_group == 0 || p.heads % p.kv_group != 0) fail(where + " kv_group", "does not divide the heads");
        const Wide kv_heads = p.heads / p.kv_group;
        auto extent = [&](Wide offset, Wide b, Wide h, Wide row, Wide heads, Wide rows, Wide width) {
          return offset + (batch - 1) * b + (heads - 1) * h + (rows - 1) * row + width;
        };
        inside(d, 1, extent(p.q_offset, p.q_batch, p.q_head, p.q_row, p.heads, p.sq, c.HEAD_DIM), where, "Q");
        if (c.PAGE_SIZE == 0) {
          inside(d, 2, extent(p.k_offset, p.k_batch, p.k_head, p.k_row, kv_heads, p.sk, c.HEAD_DIM), where, "K");
          inside(d, 3, extent(p.v_offset, p.v_batch, p.v_head, p.v_row, kv_heads, p.sk, c.VALUE_DIM), where, "V");
        } else {  // pools of pages, every entry clamped into them; the table covers every key
          if (p.pages == 0) fail(where + " pages", "is 0 in a paged form");
          if (Wide(p.table_row) * c.PAGE_SIZE != p.sk)
            fail(where + " table_row", "x PAGE_SIZE is " + text(Wide(p.table_row) * c.PAGE_SIZE) + ", not the " +
                                           text(p.sk) + " keys");
          const Wide last_page = Wide(p.pages) - 1, last_row = Wide(c.PAGE_SIZE) - 1;
          inside(d, 2, p.k_offset + last_page * p.k_batch + (kv_heads - 1) * p.k_head + last_row * p.k_row + c.HEAD_DIM,
                 where, "K");
          inside(d, 3, p.v_offset + last_page * p.v_batch + (kv_heads - 1) * p.v_head + last_row * p.v_row + c.VALUE_DIM,
                 where, "V");
          inside(d, 5, batch * p.table_row, where, "the block table");
        }
        if (c.SINKS != 0) inside(d, 4, p.heads, where, "the sinks");
        const bool split = d.shader == Shader::flash_attention_tiled
                               ? c.SPLIT == 1
                               : constants_of<Shader::flash_attention_texel>(spec).SPLIT == 1;
        program_reads(d, {batch, p.heads, p.sq, p.sk}, nullptr, where);
        if (split) {
          if (p.keys_per_split == 0) fail(where + " keys_per_split", "is 0 in the split form");
          const Wide splits = (Wide(p.sk) + p.keys_per_split - 1) / p.keys_per_split;
          inside(d, 0, splits * batch * p.heads * p.sq * (Wide(c.VALUE_DIM) + 2), where, "the partial results");
        } else {
          inside(d, 0, extent(p.o_offset, p.o_batch, p.o_head, p.o_row, p.heads, p.sq, c.VALUE_DIM), where, "O");
        }
        return;
      }
      case Shader::pointwise: {
        const auto p = push_of<Shader::pointwise>(push);
        if (d.program < 0) fail(where, "is a pointwise kernel without a program");
        const Wide total = Wide(p.dims[0]) * p.dims[1] * p.dims[2] * p.dims[3];
        if (Wide(p.total) != total) fail(where + " total", "is " + text(p.total) + ", not the product of dims " + text(total));
        if (invocations < total) fail(where + " workgroups", "cover fewer elements than the output");
        inside(d, 0, total, where, "the output");
        program_reads(d, {p.dims[0], p.dims[1], p.dims[2], p.dims[3]}, p.extents, where);
        further_outputs(d, total, where);
        return;
      }
      case Shader::attention_combine: {
        const auto p = push_of<Shader::attention_combine>(push);
        if (p.rows == 0 || p.value_dim == 0) return;
        if (p.sq == 0 || p.heads == 0 || p.rows % (Wide(p.sq) * p.heads) != 0)
          fail(where + " rows", "is not a whole number of heads x queries");
        const Wide batch = p.rows / (Wide(p.sq) * p.heads);
        inside(d, 1, Wide(p.splits) * p.rows * (Wide(p.value_dim) + 2), where, "the partial results");
        inside(d, 0, Wide(p.o_offset) + (batch - 1) * p.o_batch + Wide(p.heads - 1) * p.o_head +
                         Wide(p.sq - 1) * p.o_row + p.value_dim, where, "O");
        if (invocations < Wide(p.rows) * p.value_dim) fail(where + " workgroups", "cover fewer elements than the output");
        return;
      }
      case Shader::softmax:
      case Shader::layer_norm: {
        const auto p = push_of<Shader::softmax>(push);  // rows, n first in both
        const Wide total = Wide(p.rows) * p.n;
        inside(d, 0, total, where, "the rows");
        inside(d, 1, total, where, "the rows");
        if (d.shader == Shader::softmax && constants_of<Shader::softmax>(spec).SINKS == 1) {
          if (p.queries == 0 || p.heads == 0) fail(where + " queries", "or heads is 0");
          inside(d, 2, p.heads, where, "the sinks");
        }
        if (d.shader == Shader::layer_norm) {
          inside(d, 2, p.n, where, "gamma");
          const auto c = constants_of<Shader::layer_norm>(spec);
          if (c.RMS == 0 && c.HAS_BETA == 1) inside(d, 3, p.n, where, "beta");
          if (constants_of<Shader::layer_norm>(spec).HAS_RESIDUAL == 1) inside(d, 4, total, where, "the residual");
        }
        return;
      }
      case Shader::cache_write: {
        const auto p = push_of<Shader::cache_write>(push);
        const Wide total = p.total;
        if (total == 0) return;
        if (p.dim == 0 || p.rows == 0 || p.heads == 0 || total % (Wide(p.dim) * p.rows * p.heads) != 0)
          fail(where + " dims", "do not divide the total");
        if (p.rows > p.capacity) fail(where + " rows", "exceed the capacity");
        if (invocations < total) fail(where + " workgroups", "cover fewer elements than the update");
        const Wide batch = total / (Wide(p.dim) * p.rows * p.heads);
        if (p.page_size == 0) {
          inside(d, 0, batch * p.heads * p.capacity * p.dim, where, "the cache");
        } else {  // a pool of pages through the block table
          if (Wide(p.table_row) * p.page_size != p.capacity)
            fail(where + " capacity", "is not table_row x page_size");
          if (p.pages == 0) fail(where + " pages", "is 0 in a paged write");
          inside(d, 0, Wide(p.pages) * p.heads * p.page_size * p.dim, where, "the page pool");
          inside(d, 3, batch * p.table_row, where, "the block table");
        }
        inside(d, 1, Wide(p.u_offset) + (batch - 1) * p.u_batch + Wide(p.heads - 1) * p.u_head +
                         Wide(p.rows - 1) * p.u_row + p.dim, where, "the update");
        inside(d, 2, batch, where, "the positions");
        return;
      }
      case Shader::mask:
      case Shader::gather:
      case Shader::rotary: {
        const Wide total = push.empty() ? 0 : push[0];  // `total` leads every per-element block
        inside(d, 0, total, where, "the output");
        if (invocations < total) fail(where + " workgroups", "cover fewer elements than the output");
        if (d.shader == Shader::gather && total > 0) {
          const auto p = push_of<Shader::gather>(push);
          if (p.rank == 0 || p.rank > 6) fail(where + " rank", "is " + text(p.rank) + ", not 1 to 6");
          if (p.dims[0] == 0 || total % p.dims[0] != 0) fail(where + " dims", "do not divide the total");
          if (p.table_axis != 0) {  // a paged view: table rows of table_row entries, one per i_0
            if (p.table_axis >= p.rank) fail(where + " table_axis", "is not an axis of the view");
            if (p.dims[p.table_axis] > p.table_row) fail(where + " table_row", "is shorter than the paged axis");
            inside(d, 2, Wide(p.dims[0]) * p.table_row, where, "the block table");
          }
        }
        if (d.shader == Shader::rotary) {
          const auto p = push_of<Shader::rotary>(push);
          const auto c = constants_of<Shader::rotary>(spec);
          if (p.dim == 0 || p.sequence == 0 || total % p.dim != 0) fail(where + " dim", "does not divide the total");
          if (c.ROTARY_DIMS < 2 || c.ROTARY_DIMS % 2 != 0 || c.ROTARY_DIMS > p.dim)
            fail(where + " specialization ROTARY_DIMS", "is " + std::to_string(c.ROTARY_DIMS) + ", not an even count of at most dim");
          inside(d, 1, total, where, "the operand");
          if (c.POSITIONS == 1) {
            if (p.per_batch == 0) fail(where + " per_batch", "is 0");
            inside(d, 2, (total - 1) / p.per_batch + 1, where, "the positions");
          }
        }
        if (d.shader == Shader::mask && total > 0) {
          inside(d, 1, total, where, "the scores");
          const auto p = push_of<Shader::mask>(push);
          const auto kind = constants_of<Shader::mask>(spec).KIND;
          bool known = false;
#define VKATTN_KNOWN_MASK(name, NAME, bit, op) known = known || kind == bit;
          VKATTN_MASK_KINDS(VKATTN_KNOWN_MASK)
#undef VKATTN_KNOWN_MASK
          if (!known) fail(where + " specialization KIND", "is " + std::to_string(kind) + ", not one mask bit");
          if (kind == std::uint32_t(Mask::padding) || kind == std::uint32_t(Mask::cache_causal)) {
            if (p.per_batch == 0) fail(where + " per_batch", "is 0");
            inside(d, 2, (total - 1) / p.per_batch + 1, where, "the lengths");
          }
          if (kind == std::uint32_t(Mask::boolean) || kind == std::uint32_t(Mask::additive) ||
              kind == std::uint32_t(Mask::alibi)) {
            if (p.keys == 0 || p.d1 == 0 || p.d2 == 0) fail(where + " dims", "has a zero dimension");
            const Wide d0 = total / (Wide(p.keys) * p.d1 * p.d2);
            inside(d, 2, (d0 - 1) * p.m_stride0 + Wide(p.d1 - 1) * p.m_stride1 + Wide(p.d2 - 1) * p.m_stride2 +
                             Wide(p.keys - 1) * p.m_stride3 + 1, where, "the mask");
          }
        }
        if (d.shader == Shader::gather) {
          const auto p = push_of<Shader::gather>(push);
          if (p.rank == 0 || p.rank > 6) fail(where + " rank", "is " + std::to_string(p.rank));
          Wide last = p.offset, count = 1;
          for (std::uint32_t k = 0; k < p.rank; ++k) {
            if (p.dims[k] == 0) return;
            last += Wide(p.dims[k] - 1) * p.strides[k];
            count *= p.dims[k];
          }
          if (count != total) fail(where + " dims", "hold " + text(count) + " elements, not the total " + text(total));
          inside(d, 1, last + 1, where, "the source");
        }
        return;
      }
    }
  }

  const Schedule& s_;
};

}  // namespace

void check_schedule(const Schedule& schedule) { Checker(schedule).run(); }

}  // namespace vkattn
