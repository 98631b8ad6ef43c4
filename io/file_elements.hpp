#pragma once
// Shared by the .npy and safetensors readers and writers: whole-file reads and
// writes, and the conversion of little-endian elements to and from doubles.
#include <cstdint>
#include <string>
#include <vector>

#include "vkattn/tensor_files.hpp"

namespace vkattn::file_io {

std::vector<char> read_file(const std::string& path);
void write_file(const std::string& path, const std::string& header, const std::vector<char>& data);

std::int64_t element_bytes(FileElement type);
// Decodes `count` little-endian elements starting at `bytes`.
void decode(const char* bytes, FileElement type, std::int64_t count, double* out);
// Encodes `values` as little-endian elements appended to `out`.
void encode(const std::vector<double>& values, FileElement type, std::vector<char>& out);

}  // namespace vkattn::file_io
