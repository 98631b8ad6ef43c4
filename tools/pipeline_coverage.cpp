#include "pipeline_coverage.hpp"

#include <vkattn/compile.hpp>
#include <vkattn/presets.hpp>
#include <vkattn/vkattn.hpp>

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
  // Whole models (the embedding's row gather of token ids, the output head over the last
  // position), a rolling window cache (its positions in a score program) and a paged
  // cache, prefill and decode-shaped, at each head size.
  for (std::int64_t head_dim : head_dims) {
    for (const Shape& shape : shapes) {
      LlamaModelOptions model{.vocab = 32000, .model = heads * head_dim, .layers = 2};
      model.layer.heads = heads;
      model.layer.kv_heads = 2;
      model.layer.ffn_hidden = 4 * heads * head_dim;
      Graph whole = build_llama_model(
          model, {.batch = 1, .seq = shape.cache > 0 ? 1 : shape.seq, .cache = shape.cache, .last_position_only = true});
      PresetOptions rolling{.name = "llama_block", .seq = shape.seq, .model = heads * head_dim, .heads = heads,
                            .kv_heads = 2, .cache = 4096, .window = 1024};
      Graph window = build_preset(rolling);
      DimSizes tune;
      for (const DimSize& d : dynamic_dims(window)) tune.push_back({d.name, std::min(shape.seq, d.size)});
      window = with_sizes(window, tune);
      // A paged cache of pages of 16 positions (the attention kernels' PAGE_SIZE form).
      PresetOptions paging{.name = "llama_block", .batch = 4, .model = heads * head_dim, .heads = heads,
                           .kv_heads = 2, .cache = 4096, .run_tokens = shape.seq, .page_size = 16, .pages = 512};
      Graph paged = build_preset(paging);
      DimSizes paged_tune;
      for (const DimSize& d : dynamic_dims(paged)) paged_tune.push_back({d.name, std::min(shape.seq, d.size)});
      paged = with_sizes(paged, paged_tune);
      DimSizes model_tune;
      for (const DimSize& d : dynamic_dims(whole)) model_tune.push_back({d.name, shape.cache > 0 ? 1 : shape.seq});
      whole = with_sizes(whole, model_tune);
      for (const std::string& target_name : target_names) {
        const Target* target = targets::find(target_name);
        if (target == nullptr)
          throw UsageError("unknown target '" + target_name + "'; the targets are " + std::string(targets::names_text));
        for (bool f16 : {false, true}) {
          const std::string tail = " d" + std::to_string(head_dim) + " " + shape.name + " " + target_name + (f16 ? " f16" : " f32");
          out.push_back({"llama_model" + tail,
                         compile(whole, CompileOptions{.target = *target, .f16_storage = f16, .tune_for = model_tune})});
          out.push_back({"llama_block rolling window" + tail,
                         compile(window, CompileOptions{.target = *target, .f16_storage = f16, .tune_for = tune})});
          out.push_back({"llama_block paged cache" + tail,
                         compile(paged, CompileOptions{.target = *target, .f16_storage = f16, .tune_for = paged_tune})});
        }
      }
    }
  }
  // Score programs: generated code inside the attention kernels (a window, packed
  // documents with ALiBi, T5's buckets), prefill and decode-shaped, at each head size.
  const char* const programs[] = {"window", "documents", "t5"};
  for (std::int64_t head_dim : head_dims) {
    for (const Shape& shape : shapes) {
      for (const char* program : programs) {
        const std::int64_t queries = shape.cache > 0 ? 1 : shape.seq, keys = shape.cache > 0 ? shape.cache : shape.seq;
        Graph graph{program};
        auto q = graph.input("q", {1, heads, queries, head_dim});
        auto k = graph.input("k", {1, heads, keys, head_dim});
        auto v = graph.input("v", {1, heads, keys, head_dim});
        auto s = matmul(q, k, Transpose::b) * 0.125;
        const ScorePositions at(s, CausalAlign::bottom_right);
        const std::string_view name = program;
        if (name == "window") s = hide_unless(s, window_visible(at, 256));
        if (name == "documents")
          s = hide_unless(alibi_bias(at, graph.input("slopes", {heads})),
                          document_visible(at, graph.input("documents", {1, keys}, DType::i32)));
        if (name == "t5") s = t5_bias(at, graph.input("t5_table", {heads, 32}));
        graph.output("y", matmul(softmax(s), v));
        for (const std::string& target_name : target_names) {
          const Target* target = targets::find(target_name);
          if (target == nullptr)
            throw UsageError("unknown target '" + target_name + "'; the targets are " + std::string(targets::names_text));
          for (bool f16 : {false, true})
            out.push_back({"score program " + std::string(program) + " d" + std::to_string(head_dim) + " " +
                               shape.name + " " + target_name + (f16 ? " f16" : " f32"),
                           compile(graph, CompileOptions{.target = *target, .f16_storage = f16})});
        }
      }
    }
  }
  // Generated elementwise code: a feed-forward whose gated GEMM's epilogue holds a bias
  // and GELU (tanh) of one half times the other, whose down projection adds the input,
  // and standalone groups of several inputs (a clamp, a sigmoid gate, a comparison; an
  // f16 input cast to meet f32 ones; a group that also stores a value read after it).
  for (std::int64_t head_dim : head_dims) {
    for (const Shape& shape : shapes) {
      if (shape.cache > 0) continue;
      const std::int64_t model = heads * head_dim, hidden = 4 * model;
      Graph graph{"feed_forward"};
      auto x = graph.input("x", {1, shape.seq, model});
      auto up = matmul(x, graph.weight("w1", {hidden, model}), Transpose::b) + graph.weight("b1", {hidden});
      auto gate = matmul(x, graph.weight("w3", {hidden, model}), Transpose::b);
      auto down = matmul(mul(gelu_tanh(up), gate), graph.weight("w2", {model, hidden}), Transpose::b);
      auto y = add(down, x);
      graph.output("y", y);
      auto r = graph.input("r", {1, shape.seq, model});
      graph.output("z", where(less(y, r), mul(clamp(r, -1.0, 1.0), sigmoid(y)), sub(y, r)));
      // f16 and f32 buffers in one kernel (16-bit storage in the f32 build too).
      auto h = graph.input("h", {1, shape.seq, model}, DType::f16);
      graph.output("w", mul(rsqrt(abs(cast(h, DType::f32)) + 1.0), r));
      // A group storing a further output beside its bool result.
      auto s = scale(sigmoid(r), 2.0);
      graph.output("positive", s > 1.0);
      graph.output("v", mul(tanh(s), y));
      for (const std::string& target_name : target_names) {
        const Target* target = targets::find(target_name);
        if (target == nullptr)
          throw UsageError("unknown target '" + target_name + "'; the targets are " + std::string(targets::names_text));
        for (bool f16 : {false, true})
          out.push_back({"generated elementwise d" + std::to_string(head_dim) + " " + shape.name + " " + target_name +
                             (f16 ? " f16" : " f32"),
                         compile(graph, CompileOptions{.target = *target, .f16_storage = f16})});
      }
    }
  }
  return out;
}

}  // namespace vkattn::cli
