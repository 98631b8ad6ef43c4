// Checkpoints as they ship: one safetensors file, or an index naming the shard of each
// tensor (model.safetensors.index.json beside model-0000N-of-0000M.safetensors).
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "vkattn/tensor_files.hpp"

namespace vkattn {

namespace {

[[noreturn]] void fail(const std::string& source, const std::string& what) { throw TensorFileError(source + ": " + what); }

bool ends_with(std::string_view text, std::string_view end) {
  return text.size() >= end.size() && text.substr(text.size() - end.size()) == end;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  if (!in || !(text << in.rdbuf())) fail(path, "cannot read the file");
  return text.str();
}

TensorMap read_sharded(const std::string& index_path) {
  const std::map<std::string, std::string> shard_of = parse_checkpoint_index(read_text(index_path), index_path);
  const std::filesystem::path folder = std::filesystem::path(index_path).parent_path();
  std::map<std::string, std::vector<std::string>> tensors_of;  // shard -> its tensors, as the index says
  for (const auto& [tensor, shard] : shard_of) tensors_of[shard].push_back(tensor);
  TensorMap out;
  for (const auto& [shard, tensors] : tensors_of) {
    const std::string path = (folder / shard).string();
    std::error_code error;
    if (!std::filesystem::is_regular_file(path, error))
      fail(index_path, "names shard '" + shard + "' (for tensor '" + tensors.front() + "' and " +
                           std::to_string(tensors.size() - 1) + " more), but " + path +
                           " does not exist; put every shard beside the index");
    TensorMap file = read_safetensors(path);
    for (const std::string& tensor : tensors) {
      auto found = file.find(tensor);
      if (found == file.end())
        fail(index_path, "puts tensor '" + tensor + "' in shard '" + shard + "', which does not hold it; the index "
                         "and the shards disagree (re-download them together)");
      out[tensor] = std::move(found->second);
    }
  }
  return out;
}

}  // namespace

std::map<std::string, std::string> parse_checkpoint_index(std::string_view text, const std::string& source) {
  nlohmann::json document;
  try {
    document = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    fail(source, std::string("not valid JSON (") + e.what() + ")");
  }
  if (!document.is_object()) fail(source, "expected a JSON object with \"weight_map\"");
  auto map = document.find("weight_map");
  if (map == document.end()) fail(source, "missing \"weight_map\" (the shard of each tensor)");
  if (!map->is_object()) fail(source, "weight_map: expected an object of tensor name -> shard file");
  std::map<std::string, std::string> shard_of;
  for (const auto& [tensor, shard] : map->items()) {
    const std::string field = "weight_map[\"" + tensor + "\"]";
    if (tensor.empty()) fail(source, "weight_map: a tensor name is empty");
    if (!shard.is_string()) fail(source, field + ": expected a shard file name, got " + std::string(shard.type_name()));
    const std::string name = shard.get<std::string>();
    if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos ||
        name.find('\\') != std::string::npos || name.find('\0') != std::string::npos)
      fail(source, field + ": '" + name + "' is not a plain file name; shards lie beside the index");
    shard_of[tensor] = name;
  }
  if (shard_of.empty()) fail(source, "weight_map is empty: the index names no tensor");
  return shard_of;
}

TensorMap read_checkpoint(const std::string& path) {
  std::error_code error;
  if (std::filesystem::is_directory(path, error)) {
    const std::filesystem::path folder(path);
    for (const char* name : {"model.safetensors.index.json", "model.safetensors"}) {
      const std::filesystem::path candidate = folder / name;
      if (std::filesystem::is_regular_file(candidate, error)) return read_checkpoint(candidate.string());
    }
    fail(path, "is a folder without model.safetensors.index.json or model.safetensors; name the checkpoint file");
  }
  if (ends_with(path, ".index.json")) return read_sharded(path);
  return read_safetensors(path);
}

}  // namespace vkattn
