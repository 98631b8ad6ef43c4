// .npy and safetensors round trips, malformed files, half-precision conversion, and
// binding PyTorch state dicts.
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <vkattn/presets.hpp>
#include <vkattn/reference.hpp>
#include <vkattn/state_dict.hpp>
#include <vkattn/tensor_files.hpp>
#include <vkattn/vkattn.hpp>

#include "pytorch_state_dict.hpp"

namespace va = vkattn;
namespace fs = std::filesystem;

namespace {

std::string temp_path(const std::string& name) {
  fs::path dir = fs::temp_directory_path() / "vkattn_test_tensor_files";
  fs::create_directories(dir);
  return (dir / name).string();
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// The message of the TensorFileError that `read` throws.
template <typename Read>
std::string error_of(Read read) {
  try {
    read();
  } catch (const va::TensorFileError& e) {
    return e.what();
  }
  FAIL("no TensorFileError was thrown");
  return "";
}

std::string npy_bytes(const std::string& dict, std::size_t data_bytes) {
  std::string header = dict;
  header.append((64 - (10 + header.size() + 1) % 64) % 64, ' ');
  header += '\n';
  std::string out("\x93NUMPY\x01\x00", 8);
  out += char(header.size() & 0xFF);
  out += char(header.size() >> 8);
  return out + header + std::string(data_bytes, '\0');
}

std::string safetensors_bytes(const std::string& header, std::size_t data_bytes) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[std::size_t(i)] = char((header.size() >> (8 * i)) & 0xFF);
  return out + header + std::string(data_bytes, '\0');
}

}  // namespace

TEST_CASE("half-precision conversion rounds to nearest even and keeps the special values") {
  CHECK(va::float_to_half(1.0f) == 0x3C00);
  CHECK(va::float_to_half(-2.0f) == 0xC000);
  CHECK(va::float_to_half(65504.0f) == 0x7BFF);
  CHECK(va::float_to_half(65520.0f) == 0x7C00);  // rounds up to infinity
  CHECK(va::float_to_half(1.0f + 1.0f / 2048) == 0x3C00);  // a tie: to the even mantissa
  CHECK(va::float_to_half(1.0f + 3.0f / 2048) == 0x3C02);
  CHECK(va::float_to_half(std::ldexp(1.0f, -24)) == 0x0001);  // the smallest subnormal
  CHECK(va::float_to_half(std::ldexp(1.0f, -26)) == 0x0000);
  CHECK(va::float_to_half(std::numeric_limits<float>::infinity()) == 0x7C00);
  CHECK(std::isnan(va::half_to_float(va::float_to_half(std::nanf("")))));
  for (std::uint32_t bits = 0; bits < 0x7C00; ++bits)  // every finite half survives a round trip
    REQUIRE(va::float_to_half(va::half_to_float(std::uint16_t(bits))) == bits);
}

TEST_CASE(".npy round trips f32, f16 and f64 of awkward shapes") {
  va::Tensor t = va::Tensor::random({3, 5, 7}, 11, -100, 100);
  for (va::FileElement element : {va::FileElement::f32, va::FileElement::f16, va::FileElement::f64}) {
    std::string path = temp_path("round_trip.npy");
    va::write_npy(path, t, element);
    // NumPy's layout: magic, version 1.0, a header padded so the data starts at a
    // multiple of 64 bytes.
    std::string bytes = read_bytes(path);
    REQUIRE(bytes.substr(0, 8) == std::string("\x93NUMPY\x01\x00", 8));
    std::size_t header = std::size_t(static_cast<unsigned char>(bytes[8])) | std::size_t(static_cast<unsigned char>(bytes[9])) << 8;
    CHECK((10 + header) % 64 == 0);
    CHECK(bytes.find("'shape': (3, 5, 7)") != std::string::npos);
    va::Tensor back = va::read_npy(path);
    REQUIRE(back.shape == t.shape);
    CHECK(back.dtype == (element == va::FileElement::f16 ? va::DType::f16 : va::DType::f32));
    for (std::size_t i = 0; i < t.values.size(); ++i) {
      double expected = element == va::FileElement::f64   ? t.values[i]
                        : element == va::FileElement::f32 ? double(float(t.values[i]))
                                                          : double(va::half_to_float(va::float_to_half(float(t.values[i]))));
      REQUIRE(back.values[i] == expected);
    }
  }
  // A 1-D array is written as NumPy writes it, "(n,)", and a scalar as "()".
  va::Tensor lengths = va::Tensor::zeros({4}, va::DType::i32);
  lengths.values = {1, 2, 3, 40000};
  std::string path = temp_path("lengths.npy");
  va::write_npy(path, lengths, va::FileElement::i32);
  CHECK(read_bytes(path).find("'shape': (4,)") != std::string::npos);
  va::Tensor back = va::read_npy(path);
  CHECK(back.dtype == va::DType::i32);
  CHECK(back.values == lengths.values);
}

TEST_CASE("malformed .npy files are refused with the file and the cause") {
  std::string path = temp_path("bad.npy");
  auto read = [&] { return va::read_npy(path); };
  CHECK_THAT(error_of([&] { va::read_npy(temp_path("missing.npy")); }), Catch::Contains("missing.npy: cannot open"));
  write_bytes(path, "PK\x03\x04 not numpy at all");
  CHECK_THAT(error_of(read), Catch::Contains("bad.npy: not a .npy file"));
  write_bytes(path, npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 20));
  CHECK_THAT(error_of(read), Catch::Contains("needs 24 data bytes but the file has 20"));
  write_bytes(path, npy_bytes("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", 24));
  CHECK_THAT(error_of(read), Catch::Contains("Fortran order"));
  write_bytes(path, npy_bytes("{'descr': '>f4', 'fortran_order': False, 'shape': (2, 3), }", 24));
  CHECK_THAT(error_of(read), Catch::Contains("big-endian"));
  write_bytes(path, npy_bytes("{'descr': '<c8', 'fortran_order': False, 'shape': (2, 3), }", 48));
  CHECK_THAT(error_of(read), Catch::Contains("'<c8' is not supported"));
  write_bytes(path, npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 1, 1, 2), }", 8));
  CHECK_THAT(error_of(read), Catch::Contains("5 dimensions"));
  write_bytes(path, npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, -3), }", 8));
  CHECK_THAT(error_of(read), Catch::Contains("bad size '-3'"));
  write_bytes(path, npy_bytes("{'descr': '<f4', 'shape': (2, 3), }", 24));
  CHECK_THAT(error_of(read), Catch::Contains("no 'fortran_order' entry"));
  std::string truncated = npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", 8);
  write_bytes(path, truncated.substr(0, 30));
  CHECK_THAT(error_of(read), Catch::Contains("truncated .npy header"));
}

TEST_CASE("safetensors round trips F32, F16 and I32 tensors by name") {
  va::TensorMap tensors;
  tensors["a.weight"] = va::Tensor::random({7, 3}, 1);
  tensors["a.bias"] = va::Tensor::random({7}, 2, -1, 1, va::DType::f16);
  tensors["lengths"] = va::Tensor::zeros({3}, va::DType::i32);
  tensors["lengths"].values = {3, 1, 2};
  tensors["scalar"] = va::Tensor::random({}, 3);
  std::string path = temp_path("round_trip.safetensors");
  va::write_safetensors(path, tensors);
  va::TensorMap back = va::read_safetensors(path);
  REQUIRE(back.size() == tensors.size());
  for (const auto& [name, t] : tensors) {
    INFO(name);
    const va::Tensor& b = back.at(name);
    REQUIRE(b.shape == t.shape);
    CHECK(b.dtype == t.dtype);
    for (std::size_t i = 0; i < t.values.size(); ++i) {
      double expected = t.dtype == va::DType::f16 ? double(va::half_to_float(va::float_to_half(float(t.values[i]))))
                        : t.dtype == va::DType::f32 ? double(float(t.values[i]))
                                                    : t.values[i];
      REQUIRE(b.values[i] == expected);
    }
  }
  // The header is 8-byte aligned JSON with PyTorch's metadata.
  std::string bytes = read_bytes(path);
  CHECK(bytes[8] == '{');
  CHECK(bytes.find("\"dtype\":\"F16\"") != std::string::npos);
  CHECK(bytes.find("\"__metadata__\":{\"format\":\"pt\"}") != std::string::npos);
}

TEST_CASE("malformed safetensors files are refused with the file, the tensor and the cause") {
  std::string path = temp_path("bad.safetensors");
  auto read = [&] { return va::read_safetensors(path); };
  write_bytes(path, "abc");
  CHECK_THAT(error_of(read), Catch::Contains("bad.safetensors: not a safetensors file"));
  write_bytes(path, safetensors_bytes("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8).substr(0, 20));
  CHECK_THAT(error_of(read), Catch::Contains("exceeds the file's remaining"));
  write_bytes(path, safetensors_bytes("{\"w\": [1, 2", 0));
  CHECK_THAT(error_of(read), Catch::Contains("not valid JSON"));
  write_bytes(path, safetensors_bytes("{\"w\":{\"dtype\":\"F32\",\"shape\":[2, 3],\"data_offsets\":[0,24]}}", 16));
  CHECK_THAT(error_of(read), Catch::Contains("tensor 'w': data_offsets [0, 24] lie outside the 16 data bytes"));
  write_bytes(path, safetensors_bytes("{\"w\":{\"dtype\":\"F32\",\"shape\":[2, 3],\"data_offsets\":[0,20]}}", 24));
  CHECK_THAT(error_of(read), Catch::Contains("tensor 'w': shape [2, 3] of F32 needs 24 bytes but data_offsets span 20"));
  write_bytes(path, safetensors_bytes("{\"w\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]}}", 2));
  CHECK_THAT(error_of(read), Catch::Contains("tensor 'w': dtype U8 is not supported"));
  write_bytes(path, safetensors_bytes("{\"w\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8));
  CHECK_THAT(error_of(read), Catch::Contains("tensor 'w': shape entry -2 is not a size"));
  write_bytes(path, safetensors_bytes("{\"w\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8));
  CHECK_THAT(error_of(read), Catch::Contains("tensor 'w': no \"data_offsets\""));
  write_bytes(path, safetensors_bytes("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                                      "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
                                      12));
  CHECK_THAT(error_of(read), Catch::Contains("tensor 'b': its data overlaps tensor 'a'"));
  write_bytes(path, safetensors_bytes("[1, 2]", 0));
  CHECK_THAT(error_of(read), Catch::Contains("not a JSON object"));
  // A number JSON cannot represent is a file error naming the file, not a library exception.
  write_bytes(path, safetensors_bytes("{\"w\":{\"dtype\":\"F32\",\"shape\":[1e999],\"data_offsets\":[0,8]}}", 8));
  CHECK_THAT(error_of(read), Catch::Contains("bad.safetensors"));
  // 2^40 · 2^40 wraps to 0 in 64 bits; the size is checked before the multiply.
  write_bytes(path, safetensors_bytes("{\"w\":{\"dtype\":\"F32\",\"shape\":[1099511627776, 1099511627776],"
                                      "\"data_offsets\":[0,0]}}", 0));
  CHECK_THAT(error_of(read), Catch::Contains("tensor 'w': shape [1099511627776,1099511627776] has more than 2^40"));
  // A directory is named as one.
  std::filesystem::create_directories(temp_path("a_directory"));
  CHECK_THROWS_WITH(va::read_safetensors(temp_path("a_directory")), Catch::Contains("a_directory: is a directory"));
  CHECK_THROWS_WITH(va::read_npy(temp_path("a_directory")), Catch::Contains("a_directory: is a directory"));
}

TEST_CASE("a PyTorch state dict binds: in_proj_weight and in_proj_bias split into q, k and v") {
  va::Graph g = va::build_preset({.name = "encoder_layer", .seq = 5, .model = 12, .heads = 3, .ffn_hidden = 20});
  va::TensorMap ours = va::random_bindings(g, 4);
  // The state dict as nn.TransformerEncoderLayer saves it.
  va::TensorMap state = va::testing::pack_in_proj(ours, "self_attn");
  state.erase("x");
  state["num_batches_tracked"] = va::Tensor::zeros({}, va::DType::i32);
  va::StateDictBinding bound = va::bind_state_dict(g, state, "layer.safetensors");
  for (const auto& [name, t] : bound.weights) {
    INFO(name);
    CHECK(t.values == ours.at(name).values);
  }
  CHECK(bound.weights.count("self_attn.k_proj.bias") == 1);
  CHECK(bound.unused == std::vector<std::string>{"num_batches_tracked"});

  auto error = [&](const va::TensorMap& s) -> std::string {
    try {
      va::bind_state_dict(g, s, "layer.safetensors");
    } catch (const va::BindingError& e) {
      return e.what();
    }
    return "";
  };
  va::TensorMap wrong = state;
  wrong["self_attn.in_proj_weight"].shape = {30, 12};
  CHECK_THAT(error(wrong), Catch::Contains("layer.safetensors: tensor 'self_attn.in_proj_weight' has shape [30, 12] "
                                          "but weight 'self_attn.q_proj.weight' needs [36, 12]"));
  wrong = state;
  wrong.erase("linear2.bias");
  CHECK_THAT(error(wrong), Catch::Contains("layer.safetensors has no tensor for weight 'linear2.bias' [12]"));
  // A slip in a name: the closest name the file has is suggested.
  wrong["linear2.biass"] = state.at("linear2.bias");
  CHECK_THAT(error(wrong), Catch::Contains("has no tensor for weight 'linear2.bias' [12]; did you mean 'linear2.biass'?"));
  wrong = state;
  wrong.erase("self_attn.in_proj_bias");
  CHECK_THAT(error(wrong), Catch::Contains("no tensor for weight 'self_attn.q_proj.bias' [12] (nor 'self_attn.in_proj_bias')"));
  wrong = state;
  wrong["norm1.weight"] = va::Tensor::zeros({13});
  CHECK_THAT(error(wrong), Catch::Contains("tensor 'norm1.weight' has shape [13] but weight 'norm1.weight' needs [12]"));
}

TEST_CASE("a shard of one Hugging Face Llama layer binds to llama_block whatever its layer number") {
  va::Graph g = va::build_preset({.name = "llama_block", .seq = 4, .model = 16, .heads = 4, .kv_heads = 2,
                                  .ffn_hidden = 24});
  va::TensorMap ours = va::random_bindings(g, 5);
  ours.erase("x");
  const std::vector<std::string> hf_names = {
      "self_attn.q_proj.weight", "self_attn.k_proj.weight", "self_attn.v_proj.weight", "self_attn.o_proj.weight",
      "mlp.gate_proj.weight",    "mlp.up_proj.weight",      "mlp.down_proj.weight",    "input_layernorm.weight",
      "post_attention_layernorm.weight"};
  REQUIRE(ours.size() == hf_names.size());
  // Layer 17 of a model: the names Hugging Face's LlamaForCausalLM saves.
  va::TensorMap shard;
  for (const std::string& name : hf_names) shard["model.layers.17." + name] = ours.at("model.layers.0." + name);
  va::StateDictBinding bound = va::bind_state_dict(g, shard, "shard.safetensors");
  CHECK(bound.unused.empty());
  for (const std::string& name : hf_names) CHECK(bound.weights.at("model.layers.0." + name).values == ours.at("model.layers.0." + name).values);
  CHECK(std::find(bound.descriptions.begin(), bound.descriptions.end(),
                  "model.layers.0.mlp.up_proj.weight <- model.layers.17.mlp.up_proj.weight") != bound.descriptions.end());
  // Two layers in one file are not a shard of one: the names must match exactly.
  shard["model.layers.18.input_layernorm.weight"] = ours.at("model.layers.0.input_layernorm.weight");
  CHECK_THROWS_WITH(va::bind_state_dict(g, shard, "shard.safetensors"),
                    Catch::Contains("has no tensor for weight 'model.layers.0.input_layernorm.weight'"));
}

TEST_CASE("a sharded checkpoint reads through its index: each tensor from its shard, bf16 and f32") {
  const fs::path dir = fs::path(temp_path("sharded")).parent_path() / "sharded_checkpoint";
  fs::remove_all(dir);
  fs::create_directories(dir);
  va::Graph g = va::build_preset({.name = "llama_block", .seq = 3, .model = 16, .heads = 4, .kv_heads = 2, .ffn_hidden = 24});
  va::TensorMap weights = va::random_bindings(g, 9);
  weights.erase("x");
  // Values bf16 holds exactly, so the f32 and bf16 shards give back the same numbers.
  for (auto& [name, t] : weights)
    for (double& v : t.values) v = std::round(v * 64.0) / 64.0;
  va::TensorMap first, second;
  for (const auto& [name, t] : weights) (name.find("mlp") != std::string::npos ? second : first)[name] = t;
  va::write_safetensors((dir / "model-00001-of-00002.safetensors").string(), first, va::FileElement::bf16);
  va::write_safetensors((dir / "model-00002-of-00002.safetensors").string(), second, va::FileElement::f32);
  nlohmann::json index{{"metadata", {{"total_size", 0}}}, {"weight_map", nlohmann::json::object()}};
  for (const auto& [name, t] : first) index["weight_map"][name] = "model-00001-of-00002.safetensors";
  for (const auto& [name, t] : second) index["weight_map"][name] = "model-00002-of-00002.safetensors";
  const std::string index_path = (dir / "model.safetensors.index.json").string();
  write_bytes(index_path, index.dump());
  for (const std::string& path : {index_path, dir.string()}) {
    INFO(path);
    const va::TensorMap read = va::read_checkpoint(path);
    REQUIRE(read.size() == weights.size());
    for (const auto& [name, t] : weights) CHECK(read.at(name).values == t.values);
    const va::StateDictBinding bound = va::bind_state_dict(g, read, path);
    CHECK(bound.weights.size() == weights.size());
  }
  // A tensor the index puts in a shard that lacks it; a shard that is not there; names.
  nlohmann::json wrong = index;
  wrong["weight_map"]["model.layers.0.mlp.down_proj.weight"] = "model-00001-of-00002.safetensors";
  write_bytes(index_path, wrong.dump());
  CHECK_THAT(error_of([&] { va::read_checkpoint(index_path); }),
             Catch::Contains("puts tensor 'model.layers.0.mlp.down_proj.weight' in shard 'model-00001-of-00002.safetensors', "
                             "which does not hold it"));
  fs::remove(dir / "model-00002-of-00002.safetensors");
  write_bytes(index_path, index.dump());
  CHECK_THAT(error_of([&] { va::read_checkpoint(dir.string()); }),
             Catch::Contains("names shard 'model-00002-of-00002.safetensors'") && Catch::Contains("does not exist"));
  CHECK_THAT(error_of([&] { va::parse_checkpoint_index(R"({"weight_map": {"a": "../b.safetensors"}})", "i.json"); }),
             Catch::Contains("i.json: weight_map[\"a\"]: '../b.safetensors' is not a plain file name"));
  CHECK_THAT(error_of([&] { va::parse_checkpoint_index(R"({"metadata": {}})", "i.json"); }),
             Catch::Contains("missing \"weight_map\""));
  CHECK_THAT(error_of([&] { va::parse_checkpoint_index(R"({"weight_map": {"a": 3}})", "i.json"); }),
             Catch::Contains("expected a shard file name"));
  fs::remove(index_path);
  CHECK_THAT(error_of([&] { va::read_checkpoint(dir.string()); }),
             Catch::Contains("is a folder without model.safetensors.index.json or model.safetensors"));
}
