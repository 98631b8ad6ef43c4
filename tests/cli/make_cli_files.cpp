// Files for the CLI tests of `vkattn run`:
//   make_cli_files write DIR   writes, for preset encoder_layer --seq 16 --model 32
//                              --heads 4, a PyTorch-named state dict
//                              (state.safetensors: in_proj_weight/in_proj_bias packed),
//                              the input x.npy, the CPU reference output expected.npy,
//                              a truncated copy of the state dict, one missing a tensor,
//                              decoder.json: a decoder layer (batch 2) as graph JSON, and
//                              mha_bare.safetensors: the self_attn.* tensors without
//                              their prefix, as a bare nn.MultiheadAttention saves them,
//                              nan_x.npy: x with a NaN in every row, and
//                              int_state.safetensors: the state dict with an i32
//                              self_attn.in_proj_weight, and one_dispatch.json: a
//                              graph that compiles to one dispatch, and lengths_500.npy:
//                              a padding length beyond any key count.
//   make_cli_files compare A.npy B.npy TOLERANCE [ABOVE]
//                              exits 1 unless ||A - B|| / ||B|| <= TOLERANCE (and,
//                              given ABOVE, > ABOVE: the two really differ).
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

#include <vkattn/graph_json.hpp>
#include <vkattn/presets.hpp>
#include <vkattn/reference.hpp>
#include <vkattn/tensor_files.hpp>
#include <vkattn/vkattn.hpp>

#include "pytorch_state_dict.hpp"

namespace va = vkattn;

namespace {

int write_files(const std::string& dir) {
  std::filesystem::create_directories(dir);
  va::Graph graph = va::build_preset({.name = "encoder_layer", .seq = 16, .model = 32, .heads = 4});
  va::TensorMap bindings = va::random_bindings(graph, 7);
  va::TensorMap state = va::testing::pack_in_proj(bindings, "self_attn");
  state.erase("x");
  va::TensorMap bare;
  for (const auto& [name, tensor] : state)
    if (name.rfind("self_attn.", 0) == 0) bare[name.substr(10)] = tensor;
  va::write_safetensors(dir + "/mha_bare.safetensors", bare);
  const std::string file = dir + "/state.safetensors";
  va::write_safetensors(file, state);
  va::write_npy(dir + "/x.npy", bindings.at("x"), va::FileElement::f64);
  {
    va::Tensor nan_x = bindings.at("x");
    for (std::size_t i = 0; i < nan_x.values.size(); i += std::size_t(nan_x.shape.last())) nan_x.values[i] = NAN;
    va::write_npy(dir + "/nan_x.npy", nan_x, va::FileElement::f64);
    va::TensorMap int_state = state;
    va::Tensor& packed = int_state.at("self_attn.in_proj_weight");
    packed.dtype = va::DType::i32;
    for (double& v : packed.values) v = std::round(v * 10);
    va::write_safetensors(dir + "/int_state.safetensors", int_state);
  }
  // The reference sees exactly the f32 values the file holds.
  for (auto& [name, tensor] : bindings)
    for (double& v : tensor.values) v = double(float(v));
  va::write_npy(dir + "/expected.npy", va::run_reference(graph, bindings).outputs.at("y"), va::FileElement::f64);

  std::ifstream in(file, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::ofstream(dir + "/truncated.safetensors", std::ios::binary) << bytes.substr(0, bytes.size() - 100);
  state.erase("linear2.bias");
  va::write_safetensors(dir + "/incomplete.safetensors", state);
  va::Graph decoder = va::build_preset(
      {.name = "decoder_layer", .batch = 2, .seq = 5, .kv_seq = 7, .model = 16, .heads = 2, .mask = va::Mask::padding});
  std::ofstream(dir + "/decoder.json") << va::graph_to_json(decoder);
  va::write_npy(dir + "/lengths_500.npy", va::Tensor{va::Shape{1}, va::DType::i32, {500}}, va::FileElement::i32);
  va::Graph one{"one_dispatch"};  // a graph that compiles to a single dispatch
  one.output("y", va::relu(one.input("x", {4, 4})));
  std::ofstream(dir + "/one_dispatch.json") << va::graph_to_json(one);
  // A Llama layer as Hugging Face ships a checkpoint: an index and two shards, bf16 and f32.
  {
    va::Graph llama = va::build_preset({.name = "llama_block", .seq = 3, .model = 16, .heads = 4, .kv_heads = 2,
                                        .ffn_hidden = 24});
    va::TensorMap weights = va::random_bindings(llama, 12);
    weights.erase("x");
    va::TensorMap attention, mlp;
    for (const auto& [name, t] : weights) (name.find(".mlp.") != std::string::npos ? mlp : attention)[name] = t;
    const std::string folder = dir + "/llama_sharded";
    std::filesystem::create_directories(folder);
    va::write_safetensors(folder + "/model-00001-of-00002.safetensors", attention, va::FileElement::bf16);
    va::write_safetensors(folder + "/model-00002-of-00002.safetensors", mlp, va::FileElement::f32);
    std::string map;
    for (const auto& [name, t] : weights)
      map += (map.empty() ? "" : ", ") + ("\"" + name + "\": \"model-0000" +
                                          (mlp.count(name) ? "2" : "1") + "-of-00002.safetensors\"");
    std::ofstream(folder + "/model.safetensors.index.json") << "{\"metadata\": {}, \"weight_map\": {" << map << "}}";
  }
  // 5 tokens for the mha preset under --cache 16 --model 16: shorter than the bound.
  va::Tensor tokens = va::Tensor::zeros({1, 5, 16});
  for (std::size_t i = 0; i < tokens.values.size(); ++i) tokens.values[i] = double(i % 7) / 7.0 - 0.4;
  va::write_npy(dir + "/x_5_tokens.npy", tokens, va::FileElement::f32);
  return 0;
}

int compare(const std::string& a_file, const std::string& b_file, double tolerance, double above) {
  va::Tensor a = va::read_npy(a_file), b = va::read_npy(b_file);
  const double error = va::normalised_error(a, b);  // NaN for different shapes
  std::cout << "normalised error " << error << " (" << va::dtype_name(a.dtype) << " vs " << va::dtype_name(b.dtype)
            << ")\n";
  return error <= tolerance && error > above ? 0 : 1;  // NaN fails
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::string command = argc > 1 ? argv[1] : "";
    if (command == "write" && argc == 3) return write_files(argv[2]);
    if (command == "compare" && (argc == 5 || argc == 6))
      return compare(argv[2], argv[3], std::stod(argv[4]), argc == 6 ? std::stod(argv[5]) : -1.0);
    std::cerr << "usage: make_cli_files write DIR | compare A.npy B.npy TOLERANCE [ABOVE]\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << e.what() << "\n";
    return 1;
  }
}
