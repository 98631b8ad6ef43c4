// Targets and the kernel choices made for them: every named target gets the variants
// its vendor's table names, every dispatch fits the target's limits, a named target
// forced onto a smaller device fits that device, and few-query attention splits its
// keys on GPUs.
#include <catch2/catch.hpp>
#include <vkattn/occupancy.hpp>
#include <vkattn/presets.hpp>
#include <vkattn/schedule_text.hpp>
#include <vkattn/vkattn.hpp>

namespace va = vkattn;

namespace {

va::Graph layers_graph(std::int64_t seq) {
  va::Graph g{"layers"};
  auto x = g.input("x", {2, seq, 64});
  auto memory = g.input("memory", {2, 19, 64});
  auto e = va::encoder_layer(g, x, {.heads = 4, .ffn_hidden = 96, .mask = va::Mask::causal});
  g.output("y", va::decoder_layer(g, e, memory, {.heads = 4, .ffn_hidden = 96, .prefix = "decoder"}));
  return g;
}

void require_fits(const va::Schedule& s, const va::Target& t) {
  for (const va::Dispatch& d : s.dispatches) {
    INFO("dispatch " << d.label.view() << ": " << va::variant_text(d));
    CHECK(d.local_size() >= 1);
    CHECK(d.local_size() <= t.max_invocations);
    CHECK(d.shared_bytes() <= t.shared_memory_bytes);
    CHECK(d.push_constants.size() * 4 == va::shader_info(d.shader).push_bytes);
    CHECK(va::shader_info(d.shader).kernel == d.kernel);
    CHECK(!d.config.empty());
    CHECK(!d.reason.empty());
  }
}

}  // namespace

TEST_CASE("every named target gets its vendor's variants, within its limits") {
  for (const va::Target* target : va::targets::all) {
    for (std::int64_t seq : {1, 7, 129}) {
      INFO("target " << target->name.view() << ", seq " << seq);
      va::Schedule s = va::compile(layers_graph(seq), *target);
      CHECK(s.target == *target);
      require_fits(s, *target);
      const bool cpu = target->vendor == va::Vendor::mesa_llvmpipe;
      for (const va::Dispatch& d : s.dispatches) {
        if (d.kernel == va::Kernel::gemm) CHECK(d.shader == (cpu ? va::Shader::gemm_texel : va::Shader::gemm_tiled));
        if (d.kernel == va::Kernel::flash_attention)
          CHECK(d.shader == (cpu ? va::Shader::flash_attention_texel : va::Shader::flash_attention_tiled));
        if (d.kernel == va::Kernel::layer_norm) {
          auto c = va::constants_of<va::Shader::layer_norm>({d.specialization.data(), d.specialization.size()});
          CHECK(c.WORKGROUP_PER_ROW == (cpu ? 0u : 1u));
        }
      }
      // The listing names the target, and each variant with its reason.
      const std::string listing = va::schedule_listing(s);
      CHECK_THAT(listing, Catch::Contains("target: " + std::string(target->name.view())));
      CHECK_THAT(listing, Catch::Contains(std::string(va::vendor_name(target->vendor)) + ": subgroup"));
    }
  }
}

TEST_CASE("passes 1 to 7 do not depend on the target") {
  va::Graph g = layers_graph(33);
  va::Schedule generic = va::compile(g, va::targets::generic);
  va::Schedule nvidia = va::compile(g, va::targets::nvidia);
  REQUIRE(generic.dispatches.size() == nvidia.dispatches.size());
  CHECK(generic.slots == nvidia.slots);
  CHECK(generic.arena_bytes == nvidia.arena_bytes);
  for (std::size_t i = 0; i < generic.dispatches.size(); ++i) {
    CHECK(generic.dispatches[i].kernel == nvidia.dispatches[i].kernel);
    CHECK(generic.dispatches[i].covers == nvidia.dispatches[i].covers);
  }
}

TEST_CASE("a named target within a smaller device's limits fits that device") {
  const va::Target small{.name = "small", .vendor = va::Vendor::other, .subgroup_min = 8, .subgroup_max = 8,
                         .subgroup_arithmetic = true, .subgroup_shuffle = true, .shared_memory_bytes = 8192,
                         .max_invocations = 64};
  for (const va::Target* named : va::targets::all) {
    INFO("target " << named->name.view());
    const va::Target forced = va::within_limits_of(*named, small);
    CHECK(forced.vendor == named->vendor);
    CHECK(forced.shared_memory_bytes <= 8192);
    CHECK(forced.max_invocations <= 64);
    CHECK(forced.subgroup_min == 8);
    va::Schedule s = va::compile(layers_graph(40), forced);
    require_fits(s, forced);
  }
  // Without subgroup shuffles the texel attention and without arithmetic the
  // invocation-per-row kernels stand in, and the reason says so.
  va::Target bare = va::targets::nvidia;
  bare.subgroup_shuffle = bare.subgroup_arithmetic = false;
  va::Schedule s = va::compile(layers_graph(40), bare);
  for (const va::Dispatch& d : s.dispatches) {
    if (d.kernel == va::Kernel::flash_attention) {
      CHECK(d.shader == va::Shader::flash_attention_texel);
      CHECK_THAT(std::string(d.reason.view()), Catch::Contains("no subgroup shuffle"));
    }
    if (d.kernel == va::Kernel::layer_norm) CHECK_THAT(std::string(d.reason.view()), Catch::Contains("no subgroup arithmetic"));
  }
}

TEST_CASE("few queries over many keys split the keys on GPU targets and merge them") {
  va::Graph g{"decode"};
  auto x = g.input("x", {1, 1, 128});
  auto cache = g.input("cache", {1, 4096, 128});
  g.output("y", va::multi_head_attention(g, x, cache, cache, {.heads = 2, .prefix = "attn"}));
  for (const va::Target* target : {&va::targets::nvidia, &va::targets::amd, &va::targets::intel}) {
    INFO("target " << target->name.view());
    va::Schedule s = va::compile(g, *target);
    require_fits(s, *target);
    std::size_t attention = 0;
    while (s.dispatches[attention].kernel != va::Kernel::flash_attention) ++attention;
    const va::Dispatch& split = s.dispatches[attention];
    const va::Dispatch& combine = s.dispatches[attention + 1];
    REQUIRE(combine.kernel == va::Kernel::attention_combine);
    CHECK(split.barrier_after);
    CHECK_THAT(std::string(split.config.view()), Catch::Contains("splits"));
    // The partials live in a workspace beyond the planned arena, for these two dispatches.
    const va::TensorSlot& workspace = s.slots[std::size_t(split.slots[0])];
    CHECK(combine.slots[1] == split.slots[0]);
    CHECK(workspace.live_from == int(attention));
    CHECK(workspace.live_to == int(attention + 1));
    CHECK(workspace.offset + workspace.bytes <= s.arena_bytes);
    for (const va::TensorSlot& other : s.slots)
      if (&other != &workspace && other.storage == va::Storage::arena)
        CHECK((other.offset + other.bytes <= workspace.offset || other.offset >= workspace.offset + workspace.bytes));
  }
  // Many queries: no split.
  va::Graph prefill{"prefill"};
  auto xs = prefill.input("x", {1, 512, 128});
  prefill.output("y", va::multi_head_attention(prefill, xs, xs, xs, {.heads = 2}));
  for (const va::Dispatch& d : va::compile(prefill, va::targets::nvidia).dispatches)
    CHECK(d.kernel != va::Kernel::attention_combine);
}

TEST_CASE("the Intel quirk keeps a query's lanes within 8 invocations") {
  va::Target wide = va::targets::intel;
  for (const va::Dispatch& d : va::compile(layers_graph(64), wide).dispatches)
    if (d.shader == va::Shader::flash_attention_tiled) {
      auto c = va::constants_of<va::Shader::flash_attention_tiled>({d.specialization.data(), d.specialization.size()});
      CHECK(c.LANES <= 8);
      CHECK(c.LOCAL_SIZE == c.ROWS * c.LANES);
    }
}

TEST_CASE("named targets are found by name") {
  for (const va::Target* t : va::targets::all) CHECK(va::targets::find(t->name.view()) == t);
  CHECK(va::targets::find("cray") == nullptr);
}

TEST_CASE("on llvmpipe, long attention walks the keys in cached chunks") {
  for (std::int64_t seq : {129, 1100}) {
    va::Graph g{"long"};
    auto x = g.input("x", {1, seq, 64});
    g.output("y", va::multi_head_attention(g, x, x, x, {.heads = 1, .mask = va::Mask::causal}));
    for (const va::Dispatch& d : va::compile(g, va::targets::llvmpipe).dispatches)
      if (d.kernel == va::Kernel::flash_attention) {
        auto c = va::constants_of<va::Shader::flash_attention_texel>({d.specialization.data(), d.specialization.size()});
        CHECK(c.KEY_CHUNK == (seq > 1024 ? 512u : 0u));
        CHECK(c.LOCAL_SIZE == (seq > 1024 ? 64u : 8u));
      }
  }
}

TEST_CASE("occupancy counts whole workgroups against LDS, registers and wave slots") {
  constexpr va::ComputeUnitResources rdna3{.simds = 4, .shared_bytes = 128 * 1024, .wave_slots_per_simd = 16,
                                           .wave64_vgprs_per_simd = 768, .wave64_vgpr_granule = 0};
  // The 128x128 GEMM: 4 wave64s of 120 VGPRs, 16 KiB: registers allow 6 per SIMD.
  constexpr va::Occupancy gemm = va::occupancy(rdna3, {.invocations = 256, .wave_size = 64, .vgprs = 120,
                                                       .shared_bytes = 16384});
  static_assert(gemm.workgroups == 6 && gemm.waves_per_simd == 6 && gemm.limit == "VGPRs");
  // Attention with all 64 KiB: 2 workgroups of 2 waves, 1 wave per SIMD, LDS-bound.
  constexpr va::Occupancy attention = va::occupancy(rdna3, {.invocations = 128, .wave_size = 64, .vgprs = 256,
                                                            .shared_bytes = 65536});
  static_assert(attention.workgroups == 2 && attention.waves_per_simd == 1 && attention.limit == "LDS");
  // Wave32 registers are half as wide: twice the file.
  constexpr va::Occupancy wave32 = va::occupancy(rdna3, {.invocations = 64, .wave_size = 32, .vgprs = 100});
  static_assert(wave32.waves_per_workgroup == 2 && wave32.workgroups == 30 && wave32.waves_per_simd == 15);
  // No LDS and few registers: the wave slots decide.
  constexpr va::Occupancy light = va::occupancy(rdna3, {.invocations = 256, .wave_size = 64, .vgprs = 12});
  static_assert(light.workgroups == 16 && light.waves_per_simd == 16 && light.limit == "wave slots");
  // GFX9: 256 registers per SIMD in granules of 4; 121 VGPRs take 124, 2 waves each.
  constexpr va::ComputeUnitResources gfx9{.simds = 4, .shared_bytes = 64 * 1024, .wave_slots_per_simd = 10,
                                          .wave64_vgprs_per_simd = 256, .wave64_vgpr_granule = 4};
  constexpr va::Occupancy old = va::occupancy(gfx9, {.invocations = 256, .wave_size = 64, .vgprs = 121});
  static_assert(old.workgroups == 2 && old.waves_per_simd == 2 && old.limit == "VGPRs");
  CHECK(gemm.waves_per_simd == 6);
}
