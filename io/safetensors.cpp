// safetensors: an 8-byte little-endian header length N, N bytes of JSON
// {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...,
//  "__metadata__": {...}}, then the data; offsets are relative to the data's start.
#include <algorithm>

#include <nlohmann/json.hpp>

#include "file_elements.hpp"

namespace vkattn {

namespace {

[[noreturn]] void fail(const std::string& path, const std::string& what) { throw TensorFileError(path + ": " + what); }
[[noreturn]] void fail(const std::string& path, const std::string& tensor, const std::string& what) {
  throw TensorFileError(path + ": tensor '" + tensor + "': " + what);
}

bool parse_dtype(const std::string& name, FileElement& out) {
  static const std::pair<const char*, FileElement> known[] = {{"F16", FileElement::f16}, {"BF16", FileElement::bf16},
                                                              {"F32", FileElement::f32}, {"F64", FileElement::f64},
                                                              {"I32", FileElement::i32}, {"I64", FileElement::i64}};
  for (const auto& [text, element] : known)
    if (name == text) {
      out = element;
      return true;
    }
  return false;
}

const char* dtype_text(FileElement type) {
  switch (type) {
    case FileElement::f16: return "F16";
    case FileElement::bf16: return "BF16";
    case FileElement::f32: return "F32";
    case FileElement::f64: return "F64";
    case FileElement::i32: return "I32";
    case FileElement::i64: return "I64";
  }
  return "?";
}

struct Entry {
  std::string name;
  FileElement element;
  Shape shape;
  std::uint64_t begin, end;
};

}  // namespace

TensorMap read_safetensors(const std::string& path) { return parse_safetensors(file_io::read_file(path), path); }

TensorMap parse_safetensors(std::span<const char> bytes, const std::string& path) {
  if (bytes.size() < 8) fail(path, "not a safetensors file: " + std::to_string(bytes.size()) + " bytes, no header length");
  std::uint64_t header_length = 0;
  for (int i = 7; i >= 0; --i) header_length = header_length << 8 | static_cast<unsigned char>(bytes[std::size_t(i)]);
  if (header_length > bytes.size() - 8)
    fail(path, "truncated or not safetensors: the header length " + std::to_string(header_length) +
                   " exceeds the file's remaining " + std::to_string(bytes.size() - 8) + " bytes");
  const char* header_begin = bytes.data() + 8;
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(header_begin, header_begin + header_length);
  } catch (const nlohmann::json::exception& e) {  // malformed, or a number out of range (1e999)
    fail(path, std::string("the header is not valid JSON: ") + e.what());
  }
  if (!header.is_object()) fail(path, "the header is not a JSON object");
  const std::uint64_t data_size = bytes.size() - 8 - header_length;
  const char* data = header_begin + header_length;

  std::vector<Entry> entries;
  for (const auto& [name, info] : header.items()) {
    if (name == "__metadata__") continue;
    if (!info.is_object()) fail(path, name, "its header entry is not an object");
    Entry e{name, FileElement::f32, {}, 0, 0};
    const auto dtype = info.find("dtype");
    if (dtype == info.end() || !dtype->is_string()) fail(path, name, "no \"dtype\" string");
    if (!parse_dtype(dtype->get<std::string>(), e.element))
      fail(path, name, "dtype " + dtype->get<std::string>() + " is not supported (F16, BF16, F32, F64, I32, I64)");
    const auto shape = info.find("shape");
    if (shape == info.end() || !shape->is_array()) fail(path, name, "no \"shape\" array");
    if (shape->size() > std::size_t(max_rank))
      fail(path, name, "rank " + std::to_string(shape->size()) + " exceeds the supported " + std::to_string(max_rank));
    e.shape.rank = int(shape->size());
    std::uint64_t elements = 1;
    for (std::size_t i = 0; i < shape->size(); ++i) {
      const auto& d = (*shape)[i];
      if (!d.is_number_unsigned() || d.get<std::uint64_t>() > (std::uint64_t(1) << 40))
        fail(path, name, "shape entry " + d.dump() + " is not a size");
      e.shape[int(i)] = d.get<std::int64_t>();
      // Checked before the multiply, which could otherwise wrap (2^40 · 2^40).
      const std::uint64_t size = d.get<std::uint64_t>();
      if (size != 0 && elements > (std::uint64_t(1) << 40) / size)
        fail(path, name, "shape " + shape->dump() + " has more than 2^40 elements");
      elements *= size;
    }
    const auto offsets = info.find("data_offsets");
    if (offsets == info.end() || !offsets->is_array() || offsets->size() != 2 || !(*offsets)[0].is_number_unsigned() ||
        !(*offsets)[1].is_number_unsigned())
      fail(path, name, "no \"data_offsets\" pair of byte offsets");
    e.begin = (*offsets)[0].get<std::uint64_t>();
    e.end = (*offsets)[1].get<std::uint64_t>();
    if (e.begin > e.end || e.end > data_size)
      fail(path, name, "data_offsets [" + std::to_string(e.begin) + ", " + std::to_string(e.end) +
                           "] lie outside the " + std::to_string(data_size) + " data bytes (truncated file?)");
    const std::uint64_t need = elements * std::uint64_t(file_io::element_bytes(e.element));
    if (e.end - e.begin != need)
      fail(path, name, "shape " + to_string(e.shape) + " of " + dtype->get<std::string>() + " needs " +
                           std::to_string(need) + " bytes but data_offsets span " + std::to_string(e.end - e.begin));
    entries.push_back(e);
  }
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) { return a.begin < b.begin; });
  for (std::size_t i = 1; i < entries.size(); ++i)
    if (entries[i].begin < entries[i - 1].end)
      fail(path, entries[i].name, "its data overlaps tensor '" + entries[i - 1].name + "'");

  TensorMap tensors;
  for (const Entry& e : entries) {
    const bool integer = e.element == FileElement::i32 || e.element == FileElement::i64;
    Tensor t = Tensor::zeros(e.shape, integer ? DType::i32 : e.element == FileElement::f16 ? DType::f16 : DType::f32);
    file_io::decode(data + e.begin, e.element, t.size(), t.values.data());
    tensors[e.name] = std::move(t);
  }
  return tensors;
}

namespace {

// `floating` null: each floating tensor keeps its own dtype (F16 or F32).
void write_tensors(const std::string& path, const TensorMap& tensors, const FileElement* floating) {
  nlohmann::json header = nlohmann::json::object();
  std::vector<char> data;
  for (const auto& [name, tensor] : tensors) {
    if (tensor.size() != tensor.shape.elements())
      fail(path, name, std::to_string(tensor.size()) + " values for shape " + to_string(tensor.shape));
    const FileElement element = tensor.dtype == DType::i32 ? FileElement::i32
                               : floating              ? *floating
                               : tensor.dtype == DType::f16 ? FileElement::f16
                                                            : FileElement::f32;
    const std::size_t begin = data.size();
    file_io::encode(tensor.values, element, data);
    std::vector<std::int64_t> shape(tensor.shape.dims.begin(), tensor.shape.dims.begin() + tensor.shape.rank);
    header[name] = {{"dtype", dtype_text(element)}, {"shape", shape}, {"data_offsets", {begin, data.size()}}};
  }
  header["__metadata__"] = {{"format", "pt"}};
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // keeps the data 8-byte aligned
  std::string prefix(8, '\0');
  for (int i = 0; i < 8; ++i) prefix[std::size_t(i)] = char((std::uint64_t(text.size()) >> (8 * i)) & 0xFF);
  file_io::write_file(path, prefix + text, data);
}

}  // namespace

void write_safetensors(const std::string& path, const TensorMap& tensors, FileElement floating) {
  write_tensors(path, tensors, &floating);
}

void write_safetensors(const std::string& path, const TensorMap& tensors) { write_tensors(path, tensors, nullptr); }

}  // namespace vkattn
