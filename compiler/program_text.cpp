// The text form of a program, as the pass dumps show it: one line per live step.
#include <sstream>

#include "vkattn/tensor.hpp"
#include "vkattn/codegen/render.hpp"
#include "vkattn/compiler/program.hpp"

namespace vkattn {

namespace {

std::string value_text(const Program& p, int v) {
  const ProgramValue& value = p.value(v);
  std::ostringstream text;
  text << "%" << v << " '" << value.name.view() << "'";
  if (value.layout.root != v) {
    text << " (view of %" << value.layout.root << " at " << value.layout.offset << ", strides";
    for (int k = 0; k < value.shape.rank; ++k) text << " " << value.layout.strides[std::size_t(k)];
    text << ")";
  }
  return text.str();
}

}  // namespace

std::string to_text(const Program& p) {
  std::ostringstream out;
  out << "program '" << p.graph_name.view() << "'" << (p.fused ? "" : " (unfused)") << "\n";
  for (std::size_t v = 0; v < p.values.size(); ++v) {
    const ProgramValue& value = p.value(int(v));
    if (value.kind == ValueKind::intermediate) continue;
    out << "  "
        << (value.kind == ValueKind::input    ? "input "
            : value.kind == ValueKind::weight ? "weight "
            : value.kind == ValueKind::state  ? "state "
                                              : "packed ")
        << value_text(p, int(v)) << " " << to_string(value.shape);
    if (!value.parts.empty()) {
      out << " =";
      for (int part : value.parts) out << " %" << part;
    }
    out << "\n";
  }
  for (const Step& step : p.steps) {
    if (step.kind == StepKind::removed) continue;
    out << "  " << value_text(p, step.result) << " " << to_string(p.value(step.result).shape) << " = ";
    if (step.kind == StepKind::primitive || step.kind == StepKind::view)
      out << (step.kind == StepKind::view ? "view " : "") << (step.slice ? "slice" : op_name(step.op));
    else
      out << step_kind_name(step.kind);
    out << "(";
    bool first = true;
    for (int o : step.operands) {
      if (o < 0) continue;
      out << (first ? "" : ", ") << "%" << o;
      first = false;
    }
    out << ")";
    if (step.program >= 0) {
      const Expression& e = p.programs[std::size_t(step.program)].expression;
      const bool score = step.kind == StepKind::flash_attention;
      out << (score ? " score program" : " generated");
      for (int o : step.program_reads) out << " %" << o;
      if (score)
        out << " [visible " << (e.visible >= 0 ? expression_text(e, e.visible) : std::string("always")) << "; score "
            << expression_text(e, e.value) << "]";
      else if (e.value >= 0)
        out << " [" << expression_text(e, e.value) << "]";
      if (e.prologue >= 0) out << " prologue [" << expression_text(e, e.prologue) << "]";
      for (std::size_t o = 0; o < e.outputs.size() && o < step.also_writes.size(); ++o)
        out << " also %" << step.also_writes[o] << " [" << expression_text(e, e.outputs[o].node) << "]";
    }
    if (step.slice) out << " columns from " << step.slice_offset;
    if (step.kind == StepKind::gemm) {
      out << (step.transpose_b ? " b transposed" : "");
      if (step.alpha != 1.0) out << " alpha " << step.alpha;
      if (step.gated != 0) out << " gated";
    }
    if (step.kind == StepKind::flash_attention) {
      out << " scale " << step.scale;
      if (step.kv_group > 1) out << " kv_group " << step.kv_group;
    }
    if (p.value(step.result).slot >= 0) out << " slot " << p.value(step.result).slot;
    if (step.covers.size() > 1) {
      out << "  covers";
      for (ValueId id : step.covers) out << " " << (p.graph ? std::string(p.graph->node(id).name.view()) : std::to_string(id));
    }
    out << "\n";
  }
  for (const ProgramOutput& output : p.outputs) out << "  output '" << output.name.view() << "' = %" << output.value << "\n";
  for (const Remark& r : p.remarks) out << "  remark " << r.value.view() << ": " << r.text.view() << "\n";
  return out.str();
}

}  // namespace vkattn
