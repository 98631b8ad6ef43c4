#include "pipeline_coverage.hpp"

#include <vkattn/compile.hpp>
#include <vkattn/presets.hpp>

#include "cli_options.hpp"

namespace vkattn::cli {

namespace {

struct Shape {
  const char* name;
  std::int64_t seq;
  std::int64_t cache;  // > 0: a decoding step over a cache of this many positions
};

constexpr Shape shapes[] = {{"prefill", 1024, 0}, {"short", 16, 0}, {"decode", 1, 4096}};
constexpr std::int64_t head_dims[] = {64, 96, 128, 256};
constexpr std::int64_t heads = 8;

bool has_cache(std::string_view preset) {
  return preset == "mha" || preset == "gqa" || preset == "decoder_layer" || preset == "llama_block";
}

}  // namespace

std::vector<CoveredSchedule> coverage_schedules(const std::vector<std::string>& target_names) {
  std::vector<CoveredSchedule> out;
  for (std::string_view preset : preset_names()) {
    for (std::int64_t head_dim : head_dims) {
      for (const Shape& shape : shapes) {
        if (shape.cache > 0 && !has_cache(preset)) continue;
        PresetOptions o;
        o.name = std::string(preset);
        o.seq = shape.seq;
        o.model = heads * head_dim;
        o.heads = heads;
        o.kv_heads = preset == "gqa" || preset == "llama_block" ? 2 : 0;
        o.cache = shape.cache;
        o.mask = preset == "cross_attention" || preset == "mha" ? Mask::none : Mask::causal;
        Graph graph = build_preset(o);
        DimSizes tune;
        if (shape.cache > 0) {
          for (const DimSize& d : dynamic_dims(graph)) tune.push_back({d.name, shape.seq});
          graph = with_sizes(graph, tune);
        }
        for (const std::string& target_name : target_names) {
          const Target* target = targets::find(target_name);
          if (target == nullptr)
            throw UsageError("unknown target '" + target_name + "'; the targets are " + std::string(targets::names_text));
          for (bool f16 : {false, true})
            for (bool fuse : {true, false}) {
              CompileOptions options{.fuse = fuse, .target = *target, .f16_storage = f16, .tune_for = tune};
              out.push_back({o.name + " d" + std::to_string(head_dim) + " " + shape.name + " " + target_name +
                                 (f16 ? " f16" : " f32") + (fuse ? " fused" : " unfused"),
                             compile(graph, options)});
            }
        }
      }
    }
  }
  return out;
}

}  // namespace vkattn::cli
