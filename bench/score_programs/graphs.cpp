// Writes the score-program benchmark graphs (graph JSON) and their inputs (.npy) into a
// folder; bench/score_programs/run.sh times them with `vkattn bench`. Attention over
// [batch, 4 heads, seq, 64], written from primitives:
//   causal_8192, window256_8192     causal and a window of 256 at seq 8192
//   menu_causal_8192                the causal_mask op, which the compiler writes as the
//                                   same score program
//   packed_documents_8192           8 documents of random lengths totalling 8192 tokens in
//                                   one sequence, each causal within itself
//   padded_documents                the same documents as a padded batch [8, longest],
//                                   causal, keys past each length hidden
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <random>
#include <string>

#include <vkattn/graph_json.hpp>
#include <vkattn/tensor_files.hpp>
#include <vkattn/vkattn.hpp>

namespace va = vkattn;

namespace {

constexpr std::int64_t heads = 4, head_dim = 64, total = 8192, documents = 8;

enum class Variant { causal, window, menu_causal, packed, padded };

va::Graph attention(const char* name, std::int64_t batch, std::int64_t seq, Variant variant) {
  va::Graph g{name};
  auto q = g.input("q", {batch, heads, seq, head_dim});
  auto k = g.input("k", {batch, heads, seq, head_dim});
  auto v = g.input("v", {batch, heads, seq, head_dim});
  auto s = va::matmul(q, k, va::Transpose::b) * 0.125;
  switch (variant) {
    case Variant::causal: s = va::hide_unless(s, va::causal_visible(s)); break;
    case Variant::window: s = va::hide_unless(s, va::window_visible(s, 256)); break;
    case Variant::menu_causal: s = va::causal_mask(s); break;
    case Variant::packed:
      s = va::hide_unless(s, va::document_visible(s, g.input("documents", {batch, seq}, va::DType::i32)));
      break;
    case Variant::padded: {
      auto lengths = va::unsqueeze(va::unsqueeze(va::unsqueeze(g.input("lengths", {batch}, va::DType::i32), 1), 1), 1);
      s = va::hide_unless(s, va::causal_visible(s) && va::less(va::key_index(s), lengths));
      break;
    }
  }
  g.output("y", va::matmul(va::softmax(s), v));
  return g;
}

void write(const std::string& path, const std::string& text) {
  std::ofstream file(path);
  file << text;
  if (!file) throw std::runtime_error("cannot write " + path);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUT_DIR\n", argv[0]);
    return 2;
  }
  const std::string out = argv[1];
  // Document lengths: 7 random cuts of 8192 tokens (a fixed seed).
  std::mt19937 random(7);
  std::vector<std::int64_t> cuts{0, total};
  while (cuts.size() < documents + 1) {
    const std::int64_t cut = std::uniform_int_distribution<std::int64_t>(1, total - 1)(random);
    if (std::find(cuts.begin(), cuts.end(), cut) == cuts.end()) cuts.push_back(cut);
  }
  std::sort(cuts.begin(), cuts.end());
  va::Tensor ids = va::Tensor::zeros(va::Shape{1, total}, va::DType::i32);
  va::Tensor lengths = va::Tensor::zeros(va::Shape{documents}, va::DType::i32);
  std::int64_t longest = 0;
  for (std::int64_t d = 0; d < documents; ++d) {
    lengths.values[std::size_t(d)] = double(cuts[std::size_t(d) + 1] - cuts[std::size_t(d)]);
    longest = std::max(longest, cuts[std::size_t(d) + 1] - cuts[std::size_t(d)]);
    for (std::int64_t t = cuts[std::size_t(d)]; t < cuts[std::size_t(d) + 1]; ++t) ids.values[std::size_t(t)] = double(d);
  }
  va::write_npy(out + "/documents.npy", ids, va::FileElement::i32);
  va::write_npy(out + "/lengths.npy", lengths, va::FileElement::i32);
  write(out + "/causal_8192.json", va::graph_to_json(attention("causal_8192", 1, total, Variant::causal)));
  write(out + "/window256_8192.json", va::graph_to_json(attention("window256_8192", 1, total, Variant::window)));
  write(out + "/menu_causal_8192.json", va::graph_to_json(attention("menu_causal_8192", 1, total, Variant::menu_causal)));
  write(out + "/packed_documents_8192.json",
        va::graph_to_json(attention("packed_documents_8192", 1, total, Variant::packed)));
  write(out + "/padded_documents.json",
        va::graph_to_json(attention("padded_documents", documents, longest, Variant::padded)));
  std::printf("document lengths:");
  for (double l : lengths.values) std::printf(" %g", l);
  std::printf(" (longest %lld)\n", (long long)longest);
  return 0;
}
