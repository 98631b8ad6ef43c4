#pragma once
// Pass 8 for a gemm step: shaders/gemm_texel.comp or gemm_tiled.comp as the target's
// tuning picks (tuning/choose.hpp), with the batch strides, vector-load flags and the
// step's generated epilogue.
#include "vkattn/compiler/lower_pointwise.hpp"
#include "vkattn/compiler/schedule_builder.hpp"

namespace vkattn::passes {

constexpr void lower_gemm(ScheduleBuilder& b, const Step& step) {
  using detail::u32;
  using detail::multiple_of_4;
  const int a = step.operands[operand::gemm_a], bv = step.operands[operand::gemm_b];
  const int bias = step.operands[operand::gemm_bias];
  const Shape& c = b.value(step.result).shape;
  const Shape& as = b.value(a).shape;
  const Shape& bs = b.value(bv).shape;
  const Layout& al = b.layout(a);
  const Layout& bl = b.layout(bv);
  b.require_contiguous(step, step.result);
  std::int64_t m = c.from_back(2), n = c.last(), k = as.last();
  const int batch_rank = c.rank - 2;
  std::int64_t outer = batch_rank >= 2 ? c[0] : 1, inner = batch_rank >= 1 ? c[batch_rank - 1] : 1;
  // Batch strides of an operand: its layout's strides of the batch axes, aligned from
  // the back with the result's; 0 where it broadcasts.
  auto batch_stride = [&](const Shape& shape, const Layout& l, int result_axis) -> std::int64_t {
    int axis = result_axis - (batch_rank - (shape.rank - 2));
    if (axis < 0 || shape[axis] == 1) return 0;
    return l.strides[std::size_t(axis)];
  };
  std::int64_t a_outer = batch_rank >= 2 ? batch_stride(as, al, 0) : 0;
  std::int64_t a_inner = batch_rank >= 1 ? batch_stride(as, al, batch_rank - 1) : 0;
  std::int64_t b_outer = batch_rank >= 2 ? batch_stride(bs, bl, 0) : 0;
  std::int64_t b_inner = batch_rank >= 1 ? batch_stride(bs, bl, batch_rank - 1) : 0;
  const std::int64_t lda = al.strides[std::size_t(as.rank - 2)], ldb = bl.strides[std::size_t(bs.rank - 2)];
  // A shared 2-D B and rows of A that continue across the batch axes: one taller product.
  // The rows kernel choices see: dynamic dimensions at their tuned size.
  std::int64_t tuned_m = b.tuned(as, as.rank - 2);
  if (bs.rank == 2 && batch_rank >= 1 && a_inner == m * lda && (batch_rank == 1 || a_outer == inner * m * lda)) {
    for (int axis = 0; axis < as.rank - 2; ++axis) tuned_m *= b.tuned(as, axis);
    m *= outer * inner;
    outer = inner = 1;
    a_outer = a_inner = 0;
  }
  const bool a_vec4 = multiple_of_4(k) && multiple_of_4(al.offset) && multiple_of_4(lda) && multiple_of_4(a_outer) &&
                      multiple_of_4(a_inner);
  const bool b_vec4 = multiple_of_4(step.transpose_b ? k : n) && multiple_of_4(bl.offset) && multiple_of_4(ldb) &&
                      multiple_of_4(b_outer) && multiple_of_4(b_inner);
  const tuning::GemmChoice choice = tuning::choose_gemm(b.target(), tuned_m);

  Dispatch& d = b.begin(Kernel::gemm, step);
  const bool texel = choice.shader == Shader::gemm_texel;
  b.bind(d, 1, a, !texel ? Access::storage : a_vec4 ? Access::texel_vec4 : Access::texel_scalar);
  b.bind(d, 2, bv, !texel ? Access::storage : b_vec4 ? Access::texel_vec4 : Access::texel_scalar);
  if (bias >= 0) {
    b.require_contiguous(step, bias);
    b.bind(d, 3, bias);
  }
  if (step.program >= 0) d.program = detail::bind_program(b, d, step, nullptr);
  kernels::GemmPush push;
  push.M = u32(m);
  push.N = u32(n);
  push.K = u32(k);
  push.inner_count = u32(inner);
  push.a_offset = u32(al.offset);
  push.a_outer = u32(a_outer);
  push.a_inner = u32(a_inner);
  push.lda = u32(lda);
  push.b_offset = u32(bl.offset);
  push.b_outer = u32(b_outer);
  push.b_inner = u32(b_inner);
  push.ldb = u32(ldb);
  push.alpha = float(step.alpha);
  const auto dims = detail::padded_dims(c);
  const auto a_dims = detail::padded_dims(as);
  for (int axis = 0; axis < max_rank; ++axis) {
    push.dims[axis] = dims[std::size_t(axis)];
    push.a_dims[axis] = a_dims[std::size_t(axis)];
  }
  auto epilogue = [&](auto& constants) {
    constants.TRANSPOSE_B = step.transpose_b ? 1u : 0u;
    constants.A_VEC4 = a_vec4 ? 1u : 0u;
    constants.B_VEC4 = b_vec4 ? 1u : 0u;
    constants.HAS_BIAS = bias >= 0 ? 1u : 0u;
    constants.GATED = step.gated != 0 ? 1u : 0u;
  };
  ConfigText config;
  if (step.gated != 0) config.append("gated, ");
  if (texel) {
    kernels::GemmTexelConstants constants;
    epilogue(constants);
    constants.LOCAL_SIZE = 8;  // the 8 SIMD lanes of a CPU thread share A's rows
    constants.ROWS = choice.texel_rows;
    constexpr std::uint32_t columns = 8;  // per invocation
    d.workgroups = {detail::ceil_div(n, constants.LOCAL_SIZE * columns), detail::ceil_div(m, constants.ROWS),
                    u32(outer * inner)};
    config.append("rows ").append(std::int64_t(constants.ROWS)).append("x8 wg8");
    b.set_interface<Shader::gemm_texel>(d, push, constants, config.view(), choice.reason.view());
  } else {
    const tuning::GemmTiles& t = choice.tiles;
    kernels::GemmTiledConstants constants;
    epilogue(constants);
    constants.LOCAL_SIZE = t.invocations();
    constants.TILE_M = t.m;
    constants.TILE_N = t.n;
    constants.TILE_K = t.k;
    constants.THREAD_M = t.thread_m;
    constants.THREAD_N = t.thread_n;
    d.workgroups = {detail::ceil_div(n, t.n), detail::ceil_div(m, t.m), u32(outer * inner)};
    config.append(std::int64_t(t.m)).append("x").append(std::int64_t(t.n)).append("x").append(std::int64_t(t.k));
    config.append(" ").append(std::int64_t(t.thread_m)).append("x").append(std::int64_t(t.thread_n));
    config.append(" wg").append(std::int64_t(t.invocations()));
    b.set_interface<Shader::gemm_tiled>(d, push, constants, config.view(), choice.reason.view());
  }
  d.flops = 2.0 * double(m) * double(n) * double(k) * double(outer * inner) * (step.gated != 0 ? 2.0 : 1.0);
  if (d.program >= 0) {
    // The prologue runs on every load of A: once per element and block of TILE_N (or
    // 8 x LOCAL_SIZE) columns.
    const Expression& e = b.schedule().programs[std::size_t(d.program)];
    const std::int64_t column_blocks = texel ? detail::ceil_div(n, 64) : detail::ceil_div(n, choice.tiles.n);
    d.flops += detail::expression_flops(e, e.needs(e.value)) * double(c.elements()) +
               detail::expression_flops(e, e.needs(e.prologue)) * double(as.elements()) * double(column_blocks);
  }
}

}  // namespace vkattn::passes
