#include "text_output.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace vkattn::cli {

namespace {

std::runtime_error file_error(const std::string& flag, const std::string& path, const std::string& why) {
  return std::runtime_error(flag + ": " + path + ": " + why);
}

// Opens the temporary file beside `path` that write_text_file renames over it.
std::ofstream open_partial(const std::string& flag, const std::string& path, const std::string& temporary,
                           const std::string& after) {
  std::error_code error;
  if (std::filesystem::is_directory(path, error)) throw file_error(flag, path, "is a directory; name a file to write");
  std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
  if (!out) throw file_error(flag, path, "cannot create " + temporary + " (" + std::strerror(errno) + ")" + after);
  return out;
}

}  // namespace

void check_writable(const std::string& flag, const std::string& path) {
  const std::string temporary = path + ".vkattn-partial";
  open_partial(flag, path, temporary, "; nothing was run").close();
  std::remove(temporary.c_str());
}

void write_text_file(const std::string& flag, const std::string& path, const std::string& text) {
  auto fail = [&](const std::string& why) { return file_error(flag, path, why); };
  const std::string temporary = path + ".vkattn-partial";
  {
    std::ofstream out = open_partial(flag, path, temporary, "");
    out << text;
    out.close();
    if (!out) {
      std::remove(temporary.c_str());
      throw fail("write error (disk full?); nothing was written");
    }
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    std::remove(temporary.c_str());
    throw fail("cannot replace the file (" + why + "); nothing was written");
  }
}

}  // namespace vkattn::cli
