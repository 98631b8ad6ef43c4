// Multi-head attention from the reference interpreter against a separate, direct
// loop implementation written from the textbook definition, on random data.
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <vkattn/reference.hpp>
#include <vkattn/vkattn.hpp>

namespace va = vkattn;

namespace {

struct Case {
  std::int64_t batch, queries, keys, model, key_features, heads, kv_heads;
  va::Mask mask;
};

// y = x W^T + b for one row.
std::vector<double> project(const double* x, std::int64_t in, const va::Tensor& w, const va::Tensor& b) {
  std::int64_t out = w.shape[0];
  std::vector<double> y(static_cast<std::size_t>(out), 0.0);
  for (std::int64_t o = 0; o < out; ++o) {
    double sum = b.values[std::size_t(o)];
    for (std::int64_t i = 0; i < in; ++i) sum += x[i] * w.values[std::size_t(o * in + i)];
    y[std::size_t(o)] = sum;
  }
  return y;
}

std::vector<double> direct_attention(const Case& c, const va::TensorMap& t) {
  const std::int64_t head_dim = c.model / c.heads, group = c.heads / c.kv_heads;
  const va::Tensor& x = t.at("x");
  const va::Tensor& memory = c.key_features == 0 ? x : t.at("memory");
  const std::int64_t key_features = c.key_features == 0 ? c.model : c.key_features;
  std::vector<double> y(std::size_t(c.batch * c.queries * c.model));
  for (std::int64_t b = 0; b < c.batch; ++b) {
    std::vector<std::vector<double>> q, k, v;
    for (std::int64_t i = 0; i < c.queries; ++i)
      q.push_back(project(&x.values[std::size_t((b * c.queries + i) * c.model)], c.model, t.at("attn.q_proj.weight"), t.at("attn.q_proj.bias")));
    for (std::int64_t j = 0; j < c.keys; ++j) {
      const double* row = &memory.values[std::size_t((b * c.keys + j) * key_features)];
      k.push_back(project(row, key_features, t.at("attn.k_proj.weight"), t.at("attn.k_proj.bias")));
      v.push_back(project(row, key_features, t.at("attn.v_proj.weight"), t.at("attn.v_proj.bias")));
    }
    for (std::int64_t i = 0; i < c.queries; ++i) {
      std::vector<double> concat(std::size_t(c.model), 0.0);
      for (std::int64_t h = 0; h < c.heads; ++h) {
        std::int64_t kv_head = h / group;
        std::vector<double> weights(std::size_t(c.keys));
        std::vector<bool> attend(std::size_t(c.keys), true);
        for (std::int64_t j = 0; j < c.keys; ++j) {
          double dot = 0;
          for (std::int64_t d = 0; d < head_dim; ++d)
            dot += q[std::size_t(i)][std::size_t(h * head_dim + d)] * k[std::size_t(j)][std::size_t(kv_head * head_dim + d)];
          weights[std::size_t(j)] = dot / std::sqrt(double(head_dim));
          if (va::has(c.mask, va::Mask::causal) && j > i) attend[std::size_t(j)] = false;
          if (va::has(c.mask, va::Mask::padding) && double(j) >= t.at("lengths").values[std::size_t(b)]) attend[std::size_t(j)] = false;
          if (va::has(c.mask, va::Mask::boolean) && t.at("keep").values[std::size_t((b * c.queries + i) * c.keys + j)] == 0) attend[std::size_t(j)] = false;
        }
        double max = -std::numeric_limits<double>::infinity(), sum = 0;
        for (std::int64_t j = 0; j < c.keys; ++j)
          if (attend[std::size_t(j)]) max = std::max(max, weights[std::size_t(j)]);
        for (std::int64_t j = 0; j < c.keys; ++j) {
          weights[std::size_t(j)] = attend[std::size_t(j)] ? std::exp(weights[std::size_t(j)] - max) : 0.0;
          sum += weights[std::size_t(j)];
        }
        for (std::int64_t d = 0; d < head_dim; ++d) {
          double acc = 0;
          for (std::int64_t j = 0; j < c.keys; ++j)
            if (sum > 0) acc += weights[std::size_t(j)] / sum * v[std::size_t(j)][std::size_t(kv_head * head_dim + d)];
          concat[std::size_t(h * head_dim + d)] = acc;
        }
      }
      std::vector<double> out = project(concat.data(), c.model, t.at("attn.out_proj.weight"), t.at("attn.out_proj.bias"));
      std::copy(out.begin(), out.end(), y.begin() + (b * c.queries + i) * c.model);
    }
  }
  return y;
}

va::Graph attention_graph(const Case& c) {
  va::Graph g{"attention"};
  auto x = g.input("x", {c.batch, c.queries, c.model});
  auto memory = c.key_features == 0 ? x : g.input("memory", {c.batch, c.keys, c.key_features});
  va::AttentionOptions options{.heads = c.heads, .kv_heads = c.kv_heads, .mask = c.mask, .prefix = "attn"};
  if (va::has(c.mask, va::Mask::padding)) options.lengths = g.input("lengths", {c.batch}, va::DType::i32);
  if (va::has(c.mask, va::Mask::boolean)) options.mask_values = g.input("keep", {c.batch, 1, c.queries, c.keys});
  g.output("y", va::multi_head_attention(g, x, memory, memory, options));
  return g;
}

}  // namespace

TEST_CASE("multi-head attention matches a direct loop implementation") {
  const Case cases[] = {
      {2, 7, 7, 24, 0, 3, 3, va::Mask::none},                        // self-attention
      {2, 7, 7, 24, 0, 3, 3, va::Mask::causal},                      // causal
      {3, 9, 9, 16, 0, 4, 4, va::Mask::padding},                     // padded sequences
      {2, 6, 6, 12, 0, 2, 2, va::Mask::boolean},                     // arbitrary mask
      {2, 6, 6, 12, 0, 2, 2, va::Mask::causal | va::Mask::padding},  // combined
      {2, 5, 11, 20, 13, 4, 4, va::Mask::none},                      // cross-attention, other width
      {1, 4, 9, 20, 20, 5, 5, va::Mask::padding},                    // cross-attention with padding
      {2, 7, 7, 24, 0, 6, 2, va::Mask::causal},                      // grouped-query attention
      {1, 1, 1, 8, 0, 1, 1, va::Mask::causal},                       // a single position
  };
  std::uint64_t seed = 11;
  for (const Case& c : cases) {
    INFO("batch " << c.batch << " queries " << c.queries << " keys " << c.keys << " model " << c.model << " heads "
                  << c.heads << "/" << c.kv_heads << " mask " << int(c.mask));
    va::Graph g = attention_graph(c);
    va::TensorMap bindings = va::random_bindings(g, ++seed);
    if (va::has(c.mask, va::Mask::boolean)) {
      va::Tensor& keep = bindings.at("keep");
      for (double& v : keep.values) v = v > -0.3 ? 1.0 : 0.0;
      for (std::int64_t j = 0; j < c.keys; ++j) keep.values[std::size_t(j)] = 0;  // query 0 of batch 0 sees nothing
    }
    if (va::has(c.mask, va::Mask::padding)) bindings.at("lengths").values[0] = 0;  // an empty sequence
    va::Tensor y = va::run_reference(g, bindings).outputs.at("y");
    std::vector<double> expected = direct_attention(c, bindings);
    REQUIRE(y.values.size() == expected.size());
    double worst = 0;
    for (std::size_t i = 0; i < expected.size(); ++i) {
      REQUIRE_FALSE(std::isnan(y.values[i]));
      worst = std::max(worst, std::abs(y.values[i] - expected[i]));
    }
    CHECK(worst < 1e-12);
  }
}
