#include "text_output.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace vkattn::cli {

void check_writable(const std::string& flag, const std::string& path) {
  auto fail = [&](const std::string& why) { return std::runtime_error(flag + ": " + path + ": " + why); };
  std::error_code error;
  if (std::filesystem::is_directory(path, error)) throw fail("is a directory; name a file to write");
  const std::string temporary = path + ".vkattn-partial";
  std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
  if (!out) throw fail(std::string("cannot create ") + temporary + " (" + std::strerror(errno) + "); nothing was run");
  out.close();
  std::remove(temporary.c_str());
}

void write_text_file(const std::string& flag, const std::string& path, const std::string& text) {
  auto fail = [&](const std::string& why) { return std::runtime_error(flag + ": " + path + ": " + why); };
  std::error_code error;
  if (std::filesystem::is_directory(path, error)) throw fail("is a directory; name a file to write");
  const std::string temporary = path + ".vkattn-partial";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    if (!out) throw fail(std::string("cannot create ") + temporary + " (" + std::strerror(errno) + ")");
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
