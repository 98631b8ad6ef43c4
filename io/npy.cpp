// NumPy .npy files: "\x93NUMPY", a version, a header length, a Python dict literal
// {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), } padded to 64 bytes, then
// the raw array.
#include <cctype>
#include <limits>
#include <sstream>

#include "file_elements.hpp"

namespace vkattn {

namespace {

struct NpyHeader {
  FileElement element = FileElement::f32;
  Shape shape;
  std::size_t data_offset = 0;
};

[[noreturn]] void fail(const std::string& path, const std::string& what) { throw TensorFileError(path + ": " + what); }

// The text after `'key':` in the header dict, with leading spaces skipped.
std::size_t value_of(const std::string& path, const std::string& dict, const std::string& key) {
  std::size_t at = dict.find("'" + key + "'");
  if (at == std::string::npos) fail(path, "the .npy header has no '" + key + "' entry: " + dict);
  at = dict.find(':', at);
  if (at == std::string::npos) fail(path, "the .npy header's '" + key + "' entry has no value: " + dict);
  ++at;
  while (at < dict.size() && dict[at] == ' ') ++at;
  return at;
}

FileElement parse_descr(const std::string& path, const std::string& descr) {
  if (descr == "<f2") return FileElement::f16;
  if (descr == "<f4") return FileElement::f32;
  if (descr == "<f8") return FileElement::f64;
  if (descr == "<i4") return FileElement::i32;
  if (descr == "<i8") return FileElement::i64;
  if (!descr.empty() && descr[0] == '>')
    fail(path, "the array is big-endian ('" + descr + "'); save it little-endian (arr.astype('<" + descr.substr(1) +
                   "'))");
  fail(path, "element type '" + descr + "' is not supported (float16, float32, float64, int32 or int64)");
}

NpyHeader parse_header(const std::string& path, std::span<const char> bytes) {
  static const char magic[] = "\x93NUMPY";
  if (bytes.size() < 10 || std::string(bytes.data(), 6) != std::string(magic, 6))
    fail(path, "not a .npy file (it does not start with \\x93NUMPY)");
  const int major = static_cast<unsigned char>(bytes[6]);
  std::size_t length = 0, start = 0;
  auto byte = [&](std::size_t i) { return std::size_t(static_cast<unsigned char>(bytes[i])); };
  if (major == 1) {
    length = byte(8) | byte(9) << 8;
    start = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) fail(path, "truncated .npy header");
    length = byte(8) | byte(9) << 8 | byte(10) << 16 | byte(11) << 24;
    start = 12;
  } else {
    fail(path, ".npy format version " + std::to_string(major) + " is not supported (1, 2 or 3)");
  }
  if (start + length > bytes.size())
    fail(path, "truncated .npy header: it claims " + std::to_string(length) + " bytes but the file has " +
                   std::to_string(bytes.size() - start));
  const std::string dict(bytes.data() + start, length);
  NpyHeader header;
  header.data_offset = start + length;

  std::size_t at = value_of(path, dict, "descr");
  if (at >= dict.size() || (dict[at] != '\'' && dict[at] != '"')) fail(path, "the .npy 'descr' is not a string");
  std::size_t end = dict.find(dict[at], at + 1);
  if (end == std::string::npos) fail(path, "the .npy 'descr' string is not closed");
  header.element = parse_descr(path, dict.substr(at + 1, end - at - 1));

  at = value_of(path, dict, "fortran_order");
  if (dict.compare(at, 4, "True") == 0)
    fail(path, "the array is in Fortran order; save a C-order array (np.ascontiguousarray)");
  if (dict.compare(at, 5, "False") != 0) fail(path, "the .npy 'fortran_order' is neither True nor False");

  at = value_of(path, dict, "shape");
  if (at >= dict.size() || dict[at] != '(') fail(path, "the .npy 'shape' is not a tuple");
  end = dict.find(')', at);
  if (end == std::string::npos) fail(path, "the .npy 'shape' tuple is not closed");
  std::vector<std::int64_t> dims;
  std::string item;
  std::istringstream tuple(dict.substr(at + 1, end - at - 1));
  while (std::getline(tuple, item, ',')) {
    std::size_t first = item.find_first_not_of(' '), last = item.find_last_not_of(' ');
    if (first == std::string::npos) continue;  // the trailing comma of (n,)
    item = item.substr(first, last - first + 1);
    if (item.back() == 'L') item.pop_back();  // Python 2 longs
    bool digits = !item.empty() && item.size() < 19;
    for (char c : item) digits = digits && std::isdigit(static_cast<unsigned char>(c));
    if (!digits) fail(path, "the .npy shape has a bad size '" + item + "'");
    dims.push_back(std::stoll(item));
  }
  if (dims.size() > std::size_t(max_rank))
    fail(path, "the array has " + std::to_string(dims.size()) + " dimensions; at most " + std::to_string(max_rank) +
                   " are supported");
  std::int64_t elements = 1;
  for (std::int64_t d : dims) {
    if (d > 0 && elements > std::numeric_limits<std::int64_t>::max() / 16 / d) fail(path, "the .npy shape is too large");
    elements *= d;
  }
  header.shape.rank = int(dims.size());
  for (std::size_t i = 0; i < dims.size(); ++i) header.shape[int(i)] = dims[i];
  const std::size_t need = std::size_t(elements * file_io::element_bytes(header.element));
  const std::size_t have = bytes.size() - header.data_offset;
  if (have < need)
    fail(path, "truncated: shape " + to_string(header.shape) + " of " + std::string(file_element_name(header.element)) +
                   " needs " + std::to_string(need) + " data bytes but the file has " + std::to_string(have));
  if (have > need)
    fail(path, "the file has " + std::to_string(have - need) + " bytes after the array's " + std::to_string(need));
  return header;
}

}  // namespace

Tensor read_npy(const std::string& path) { return parse_npy(file_io::read_file(path), path); }

Tensor parse_npy(std::span<const char> bytes, const std::string& path) {
  const NpyHeader header = parse_header(path, bytes);
  const bool integer = header.element == FileElement::i32 || header.element == FileElement::i64;
  Tensor t = Tensor::zeros(header.shape, integer                             ? DType::i32
                                         : header.element == FileElement::f16 ? DType::f16
                                                                              : DType::f32);
  file_io::decode(bytes.data() + header.data_offset, header.element, t.size(), t.values.data());
  return t;
}

void write_npy(const std::string& path, const Tensor& tensor, FileElement element) {
  if (tensor.size() != tensor.shape.elements())
    fail(path, std::to_string(tensor.size()) + " values for shape " + to_string(tensor.shape));
  std::string descr;
  switch (element) {
    case FileElement::f16: descr = "<f2"; break;
    case FileElement::f32: descr = "<f4"; break;
    case FileElement::f64: descr = "<f8"; break;
    case FileElement::i32: descr = "<i4"; break;
    case FileElement::i64: descr = "<i8"; break;
    case FileElement::bf16: fail(path, "NumPy has no bfloat16 type; write f16, f32 or f64");
  }
  std::ostringstream dict;
  dict << "{'descr': '" << descr << "', 'fortran_order': False, 'shape': (";
  for (int i = 0; i < tensor.shape.rank; ++i) dict << tensor.shape[i] << (tensor.shape.rank == 1 ? "," : i + 1 < tensor.shape.rank ? ", " : "");
  dict << "), }";
  std::string text = dict.str();
  // Pad with spaces so the data starts on a 64-byte boundary; the header ends in '\n'.
  const std::size_t unpadded = 10 + text.size() + 1;
  text.append((64 - unpadded % 64) % 64, ' ');
  text += '\n';
  std::string header("\x93NUMPY\x01\x00", 8);
  header += char(text.size() & 0xFF);
  header += char((text.size() >> 8) & 0xFF);
  header += text;
  std::vector<char> data;
  file_io::encode(tensor.values, element, data);
  file_io::write_file(path, header, data);
}

}  // namespace vkattn
