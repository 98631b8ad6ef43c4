#pragma once
// The compiler's IR: the graph's values plus the steps that compute them. It starts
// as one `primitive` step per graph op; the passes fuse steps into kernels (gemm,
// flash attention, layer norm with a residual), turn layout ops into views, place
// every materialised value in memory, and finally emit the Schedule.
#include <array>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "vkattn/fixed_vector.hpp"
#include "vkattn/graph.hpp"
#include "vkattn/kernels/encodings.h"
#include "vkattn/schedule.hpp"

namespace vkattn {

class CompileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// state: a persistent tensor (Graph::state) and, aliasing its storage, what cache_write
// makes of it.
enum class ValueKind : std::uint8_t { input, weight, packed_weight, state, intermediate };

// How a value is stored: `strides` elements per step along each axis, starting at
// element `offset` of the value `root` owns. A value that owns its storage is its own
// root, with row-major strides.
struct Layout {
  int root = -1;
  std::int64_t offset = 0;
  std::array<std::int64_t, max_rank> strides{};
  constexpr bool operator==(const Layout&) const = default;
};

constexpr std::array<std::int64_t, max_rank> row_major(const Shape& shape);

// Whether `layout` is the row-major layout of `shape` from the start of its storage: the
// same elements in the same order (a size-1 axis, such as one unsqueeze inserts, takes
// any stride), so any reader, strided or not, can read it.
constexpr bool plain_layout(const Layout& layout, const Shape& shape) {
  if (layout.offset != 0) return false;
  const auto plain = row_major(shape);
  for (int axis = 0; axis < shape.rank; ++axis)
    if (shape[axis] != 1 && layout.strides[std::size_t(axis)] != plain[std::size_t(axis)]) return false;
  return true;
}

constexpr std::array<std::int64_t, max_rank> row_major(const Shape& shape) {
  std::array<std::int64_t, max_rank> strides{};
  std::int64_t stride = 1;
  for (int axis = shape.rank - 1; axis >= 0; --axis) {
    strides[std::size_t(axis)] = stride;
    stride *= shape[axis];
  }
  return strides;
}

struct ProgramValue {
  Name name;
  Shape shape;
  DType dtype = DType::f32;
  ValueKind kind = ValueKind::intermediate;
  ValueId node = no_value;                // the graph node, or no_value for values the compiler made
  FixedVector<int, max_packed_parts> parts;  // packed_weight: the weights concatenated along axis 0
  Layout layout;                          // set by the layout pass; root == own index until then
  Name output_name;                       // set when the value is a graph output
  // Set by plan_memory for values that own storage.
  int slot = -1;
};

enum class StepKind : std::uint8_t {
  primitive,        // one graph op, one dispatch of its plain kernel
  gemm,             // C = epilogue(alpha * A * B(ᵀ) + bias), the epilogue generated code
  flash_attention,  // softmax(program(scale * rope(Q) rope(K)ᵀ)) V with online softmax
  layer_norm,       // LayerNorm(x (+ residual))
  pointwise,        // a region of elementwise ops as one generated kernel
  view,             // no dispatch: the result is a strided view of the operand
  removed,          // folded into another step or dead
};

constexpr std::string_view step_kind_name(StepKind kind) {
  switch (kind) {
    case StepKind::primitive: return "primitive";
    case StepKind::gemm: return "gemm";
    case StepKind::flash_attention: return "flash_attention";
    case StepKind::layer_norm: return "layer_norm";
    case StepKind::pointwise: return "pointwise";
    case StepKind::view: return "view";
    case StepKind::removed: return "removed";
  }
  return "?";
}

// Operand positions of each step kind.
namespace operand {
inline constexpr int gemm_a = 0, gemm_b = 1, gemm_bias = 2;
// attention_table: a paged KV cache's block table (k and v are then its page pools).
inline constexpr int attention_q = 0, attention_k = 1, attention_v = 2, attention_sinks = 3, attention_table = 4;
inline constexpr int norm_x = 0, norm_gamma = 1, norm_beta = 2, norm_residual = 3;
}  // namespace operand

inline constexpr std::size_t max_step_operands = 8;

// One step of the program. Operands are program value ids at the positions
// `operand::` names for the step's kind (a primitive: the graph op's operands).
struct Step {
  StepKind kind = StepKind::primitive;
  Op op = Op::input;         // primitive and view: the graph op
  bool slice = false;        // view: the columns [slice_offset, +n) of the operand's last axis
  std::int64_t slice_offset = 0;
  int result = -1;           // the program value this step defines
  // pointwise: further values the same dispatch writes, each of the result's shape
  // (values of its region read beyond it; Expression::outputs in order)
  FixedVector<int, max_expression_outputs> also_writes;
  std::array<int, max_step_operands> operands{-1, -1, -1, -1, -1, -1, -1, -1};
  Attributes attributes;     // primitive and view: the op's attributes; layer_norm: epsilon;
                             // flash_attention: the rotary embedding's (when `rotary`)
  // gemm
  bool transpose_b = false;
  double alpha = 1.0;
  // Gated: B holds two halves [0, N) and [N, 2N), both accumulated; the epilogue
  // program combines them (kernels/gemm.h GATED).
  std::uint32_t gated = 0;
  // flash_attention
  double scale = 1.0;          // of q·kᵀ, before the score program
  std::int64_t kv_group = 1;  // query heads per key/value head
  std::uint32_t rotary = 0;   // VKATTN_ATTENTION_ROTARY_Q / _K: rotated as loaded
  // flash_attention, gemm and pointwise: Program::programs, the generated code (the
  // score program, the epilogue, the region's expression)
  int program = -1;
  FixedVector<int, max_expression_tensors> program_reads;  // the values its tensors are, by tensor index
  FixedVector<ValueId, max_covers> covers;  // graph ops this step computes
  // The repeated body the step runs in (the graph's repeat_begin node), or no_value. A
  // repeat_begin's own step, the copy of the value the body starts from, runs before it.
  // Steps fuse only with steps of the same body.
  ValueId body = no_value;

  constexpr int operand_count() const {
    int n = 0;
    for (int o : operands)
      if (o >= 0) ++n;
    return n;
  }
};

// Generated code of a step (the values its tensors are: Step::program_reads).
struct StepProgram {
  Expression expression;
  int scores = -1;  // pointwise: the value its index values index (their Sq, Sk: its last two axes)
};

struct ProgramOutput {
  Name name;
  int value = -1;
  ValueId node = no_value;  // the graph's output node
};

// A repeated body as plan_memory finds it: its dispatching steps numbered as pass 7
// numbers them, the value it starts from and the root its result is written in.
struct ProgramRepeat {
  int first = 0, last = -1;  // the body's first and last dispatching step
  int carried_in = -1;       // the repeat_begin's value (its own storage)
  int carried_out = -1;      // the root of the repeat_end's value
  std::int64_t iterations = 1;
};

struct Program {
  Name graph_name;
  std::vector<ProgramValue> values;
  std::vector<Step> steps;   // in execution order
  std::vector<ProgramOutput> outputs;
  std::vector<StepProgram> programs;  // of steps with generated code (Step::program)
  std::vector<Remark> remarks;        // fusions declined, and why (copied to the Schedule)
  std::vector<ProgramRepeat> repeats; // set by plan_memory
  const Graph* graph = nullptr;
  bool fused = true;
  bool f16_storage = false;  // every float value held in f16 on the device (CompileOptions)
  DimSizes tune_for;         // sizes of dynamic dimensions kernels are chosen for (CompileOptions)
  Schedule schedule;         // filled by the last pass

  constexpr int add_value(const ProgramValue& v) {
    values.push_back(v);
    int id = int(values.size() - 1);
    values.back().layout.root = id;
    values.back().layout.strides = row_major(v.shape);
    return id;
  }
  // The step that defines `value` (as its result or as a further value it writes), or
  // -1 (inputs and weights).
  constexpr int producer(int value) const {
    for (std::size_t s = 0; s < steps.size(); ++s)
      if (steps[s].kind != StepKind::removed && (steps[s].result == value || steps[s].also_writes.contains(value)))
        return int(s);
    return -1;
  }
  // Live steps that read `value`, and whether a graph output is `value`.
  constexpr int use_count(int value) const {
    int n = 0;
    for (const Step& step : steps)
      if (step.kind != StepKind::removed)
      {
        for (int o : step.operands)
          if (o == value) ++n;
        for (int o : step.program_reads)
          if (o == value) ++n;
      }
    for (const ProgramOutput& out : outputs)
      if (out.value == value) ++n;
    return n;
  }
  constexpr bool is_output(int value) const {
    for (const ProgramOutput& out : outputs)
      if (out.value == value) return true;
    return false;
  }
  // The only live step that reads `value` when it has exactly one use and is no output.
  constexpr int sole_consumer(int value) const {
    if (use_count(value) != 1 || is_output(value)) return -1;
    for (std::size_t s = 0; s < steps.size(); ++s)
      if (steps[s].kind != StepKind::removed) {
        for (int o : steps[s].operands)
          if (o == value) return int(s);
        for (int o : steps[s].program_reads)
          if (o == value) return int(s);
      }
    return -1;
  }
  constexpr void replace_uses(int from, int to) {
    for (Step& step : steps)
    {
      for (int& o : step.operands)
        if (o == from) o = to;
      for (int& o : step.program_reads)
        if (o == from) o = to;
    }
    for (ProgramOutput& out : outputs)
      if (out.value == from) out.value = to;
  }
  // Dimension `axis` of `shape` as kernel choices see it: a dynamic dimension at its
  // size in tune_for, else at its bound, so every size of one compile picks the same
  // kernels (and pipelines); a fixed dimension as it is.
  constexpr std::int64_t tuned(const Shape& shape, int axis) const {
    if (!shape.dynamic(axis)) return shape[axis];
    const std::int64_t size = size_of(tune_for, shape.symbols[std::size_t(axis)]);
    return size > 0 ? size : shape.bounds[std::size_t(axis)];
  }
  // Records why the op of `value` stays outside a fused dispatch (once per value).
  constexpr void remark(int value, std::string_view text) {
    Remark r;
    r.value = values[std::size_t(value)].name;
    r.text.append(text);
    for (const Remark& other : remarks)
      if (other.value == r.value) return;
    remarks.push_back(r);
  }
  constexpr const ProgramValue& value(int id) const { return values[std::size_t(id)]; }
  constexpr ProgramValue& value(int id) { return values[std::size_t(id)]; }
  // True when `v` is stored row-major in storage of its own (or, for a written cache,
  // in all of its state's storage).
  // Whether v's elements lie row-major from the start of its storage: its own, or a
  // value's of as many elements viewed plainly (an unsqueeze, a cache write's state).
  constexpr bool contiguous(int v) const {
    const ProgramValue& pv = value(v);
    if (!plain_layout(pv.layout, pv.shape)) return false;
    return pv.layout.root == v || value(pv.layout.root).shape.elements() == pv.shape.elements();
  }
};

// Covers of `step` extended with those of `other` (ops folded into it).
constexpr void absorb_covers(Step& step, const Step& other) {
  for (ValueId id : other.covers)
    if (!step.covers.contains(id)) step.covers.push_back(id);
}

[[noreturn]] inline void compile_failure(std::string_view message) {
  throw CompileError("vkattn: " + std::string(message));
}

// Text of a program: one line per live step (used for the pass dumps).
std::string to_text(const Program& program);

}  // namespace vkattn
