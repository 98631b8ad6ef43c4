#pragma once
// What the lowering of each step kind (lower_*.hpp) shares in pass 8: the program and
// the schedule being written, the target, and helpers to start a dispatch, bind its
// operands and set its kernel interface (typed push and specialization constants).
#include <bit>

#include "vkattn/compiler/pass_plan_memory.hpp"
#include "vkattn/compiler/program.hpp"
#include "vkattn/compiler/tuning/choose.hpp"

namespace vkattn::passes {

namespace detail {

inline constexpr std::uint32_t max_groups_x = 65535;

constexpr std::uint32_t u32(std::int64_t v) {
  if (v < 0 || v > std::int64_t(0xffffffff)) compile_failure("a size or stride does not fit in 32 bits");
  return std::uint32_t(v);
}
constexpr std::uint32_t ceil_div(std::int64_t a, std::int64_t b) { return u32((a + b - 1) / b); }
constexpr bool multiple_of_4(std::int64_t v) { return v % 4 == 0; }

// A 1-D launch of `count` workgroups, spread over x and y to stay under the x limit.
constexpr std::array<std::uint32_t, 3> spread_groups(std::int64_t count) {
  std::uint32_t groups = u32(count);
  std::uint32_t x = groups < max_groups_x ? groups : max_groups_x;
  if (x == 0) x = 1;
  return {x, ceil_div(groups, x), 1};
}
// A 1-D launch over `count` items, `local_size` per workgroup.
constexpr std::array<std::uint32_t, 3> linear_groups(std::int64_t count, std::uint32_t local_size) {
  return spread_groups(ceil_div(count, local_size));
}

// Element strides of `operand` broadcast to `result` (dimensions aligned from the back,
// 0 where the operand has size 1 or no dimension), padded in front to max_rank.
constexpr std::array<std::uint32_t, max_rank> broadcast_strides(const Shape& operand, const Shape& result) {
  std::array<std::uint32_t, max_rank> strides{};
  std::int64_t stride = 1;
  for (int axis = operand.rank - 1; axis >= 0; --axis) {
    int result_axis = axis + (max_rank - operand.rank);
    strides[std::size_t(result_axis)] =
        operand[axis] == 1 && result[result.rank - operand.rank + axis] != 1 ? 0 : u32(stride);
    stride *= operand[axis];
  }
  return strides;
}

constexpr std::array<std::uint32_t, max_rank> padded_dims(const Shape& shape) {
  std::array<std::uint32_t, max_rank> dims{1, 1, 1, 1};
  for (int axis = 0; axis < shape.rank; ++axis) dims[std::size_t(axis + max_rank - shape.rank)] = u32(shape[axis]);
  return dims;
}

}  // namespace detail

class ScheduleBuilder {
 public:
  constexpr ScheduleBuilder(Program& p, const Target& target) : p_(p), s_(p.schedule), target_(target) {}

  constexpr const Target& target() const { return target_; }
  constexpr const Program& program() const { return p_; }
  constexpr Schedule& schedule() { return s_; }
  constexpr const ProgramValue& value(int v) const { return p_.value(v); }
  // A dimension as kernel choices see it (Program::tuned).
  constexpr std::int64_t tuned(const Shape& shape, int axis) const { return p_.tuned(shape, axis); }
  constexpr const Layout& layout(int v) const { return value(v).layout; }
  constexpr int slot(int v) const { return value(layout(v).root).slot; }
  constexpr const TensorSlot& slot_of(int v) const { return s_.slots[std::size_t(slot(v))]; }

  constexpr void require_contiguous(const Step& step, int v) const {
    if (!p_.contiguous(v)) {
      Message m;
      m << "internal: " << step_kind_name(step.kind) << " step for '" << value(step.result).name.view()
        << "' reads '" << value(v).name.view() << "' as a strided view it cannot read";
      compile_failure(m.view());
    }
  }

  // A new dispatch of `kernel` for `step`, writing the step's result at binding 0.
  constexpr Dispatch& begin(Kernel kernel, const Step& step) {
    Dispatch d;
    d.kernel = kernel;
    d.label = dispatch_label(kernel, step);
    d.slots[0] = slot(step.result);
    d.access[0] = Access::storage;
    d.covers = step.covers;
    d.bytes = double(value(step.result).shape.elements() * storage_bytes(slot_of(step.result).element));
    // The f32 or f16 build of the shader, by the result's storage (i32 data is moved as
    // 32-bit words by the f32 build).
    d.element = slot_of(step.result).element == DType::f16 ? DType::f16 : DType::f32;
    s_.dispatches.push_back(d);
    return s_.dispatches.back();
  }

  constexpr bool slot_of_result_is_integer(const Dispatch& d) const {
    return d.slots[0] >= 0 && s_.slots[std::size_t(d.slots[0])].element == DType::i32;
  }

  // A step's generated code as the schedule keeps it: each float tensor and further
  // output typed by its element on the device (f16 or f32), which the rendered buffer
  // declares; integer and bool outputs are i32.
  constexpr int add_program(const Expression& program, const FixedVector<int, max_expression_tensors>& reads,
                            const FixedVector<int, max_expression_outputs>& writes = {}) {
    Expression e = program;
    for (std::size_t t = 0; t < e.tensors.size() && t < reads.size(); ++t)
      if (is_float(e.tensors[t].dtype)) e.tensors[t].dtype = slot_of(reads[t]).element == DType::f16 ? DType::f16 : DType::f32;
    for (std::size_t o = 0; o < e.outputs.size() && o < writes.size(); ++o)
      e.outputs[o].dtype = slot_of(writes[o]).element;
    return s_.add_program(e);
  }

  // Binds operand value `v` at `binding`.
  constexpr void bind(Dispatch& d, int binding, int v, Access access = Access::storage) {
    d.slots[std::size_t(binding)] = slot(v);
    d.access[std::size_t(binding)] = access;
    // A dispatch whose result is i32 or bool reads its float tensors in their storage:
    // the f16 build where they are held in f16 (a comparison of f16 values).
    if (slot_of(v).element == DType::f16 && slot_of_result_is_integer(d)) d.element = DType::f16;
    d.bytes += double(value(v).shape.elements() * storage_bytes(slot_of(v).element));
  }

  // The variant, its push and specialization constants (typed as the shader declares
  // them), and the configuration and reason the listing shows.
  template <Shader S>
  constexpr void set_interface(Dispatch& d, const typename ShaderInterface<S>::Push& push,
                               const typename ShaderInterface<S>::Constants& constants, std::string_view config,
                               std::string_view reason) const {
    if (shader_info(S).kernel != d.kernel) compile_failure("internal: a dispatch got a shader of another kernel");
    d.shader = S;
    d.push_constants = words_of<typename ShaderInterface<S>::Push, max_push_words>(push);
    d.specialization = words_of<typename ShaderInterface<S>::Constants, max_specialization>(constants);
    d.config = ConfigText{config};
    d.reason = ReasonText{reason};
  }

  // A scratch slot of `bytes` at the end of the arena, for dispatch number `dispatch`
  // alone (the partial results of split attention).
  constexpr int workspace(std::string_view name, std::int64_t elements) {
    TensorSlot t;
    t.name = Name{name};
    t.shape = Shape{elements};
    t.role = SlotRole::intermediate;
    t.storage = Storage::arena;
    t.element = DType::f32;  // partial results stay f32 whatever the storage
    t.bytes = elements * storage_bytes(t.element);
    t.offset = detail::aligned_bytes(s_.arena_bytes);
    s_.arena_bytes = t.offset + detail::aligned_bytes(t.bytes);
    s_.memory.peak_bytes = s_.arena_bytes;
    s_.memory.naive_bytes += t.bytes;
    t.live_from = t.live_to = -3;  // set by the scheduler once dispatches are numbered
    s_.slots.push_back(t);
    return int(s_.slots.size()) - 1;
  }

 private:
  // "gemm self_attn.{q_proj,k_proj,v_proj}": the kernel and the user-given names of
  // the ops it covers, sharing their common dotted prefix ("a+b" when they share
  // none); the result's name when the user named none of them.
  constexpr Name dispatch_label(Kernel kernel, const Step& step) const {
    FixedVector<std::string_view, 32> named;
    for (ValueId id : step.covers) {
      std::string_view n = p_.value(int(id)).name.view();
      if (!is_generated_name(n)) named.push_back(n);
    }
    Name label;
    label.append(kernel_name(kernel)).append(" ");
    if (named.empty()) return label.append(value(step.result).name.view());
    if (named.size() == 1) return label.append(named[0]);
    // Shortens a prefix "a.b." to "a." (and "a." to "").
    auto shorter = [&](std::size_t prefix) -> std::size_t {
      if (prefix < 2) return 0;
      std::size_t dot = named[0].rfind('.', prefix - 2);
      return dot == std::string_view::npos ? 0 : dot + 1;
    };
    std::size_t prefix = shorter(named[0].size() + 1);
    for (std::string_view n : named)
      while (prefix > 0 && (n.size() < prefix || n.substr(0, prefix) != named[0].substr(0, prefix)))
        prefix = shorter(prefix);
    // The names, each whole, while they fit; an ellipsis stands for those that do not.
    auto append_names = [&](std::size_t skip, std::string_view separator, std::string_view closing) {
      constexpr std::string_view more = "\u2026";
      for (std::size_t i = 0; i < named.size(); ++i) {
        const std::string_view item = named[i].substr(skip);
        const std::size_t need = (i ? separator.size() : 0) + item.size();
        const std::size_t room = closing.size() + (i + 1 < named.size() ? separator.size() + more.size() : 0);
        if (label.size() + need + room > Name::capacity()) {
          label.append(i ? separator : "").append(more);
          break;
        }
        label.append(i ? separator : "").append(item);
      }
      label.append(closing);
    };
    if (prefix == 0) {  // nothing shared: "a+b"
      append_names(0, "+", "");
      return label;
    }
    label.append(named[0].substr(0, prefix)).append("{");
    append_names(prefix, ",", "}");
    return label;
  }

  Program& p_;
  Schedule& s_;
  const Target& target_;
};

}  // namespace vkattn::passes
