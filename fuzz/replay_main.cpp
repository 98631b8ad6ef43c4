// Runs a fuzz target once on every file of the folders (and files) named on the command
// line: the seed corpus and the reproducers of past findings, as an ordinary test under
// any build. Exits non-zero naming each file whose input escaped the target.
#include <algorithm>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include "fuzz_target.hpp"

namespace {

std::vector<std::filesystem::path> inputs_under(const std::filesystem::path& path) {
  std::vector<std::filesystem::path> files;
  if (std::filesystem::is_directory(path)) {
    for (const auto& entry : std::filesystem::recursive_directory_iterator(path))
      if (entry.is_regular_file()) files.push_back(entry.path());
  } else {
    files.push_back(path);
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: " << argv[0] << " [--valid] FOLDER_OR_FILE...\n"
              << "runs the fuzz target once on every file (a seed corpus, reproducers); the files of a\n"
              << "path after --valid must also be accepted, as a seed corpus of good inputs is\n";
    return 2;
  }
  int ran = 0, failed = 0;
  bool valid = false;
  for (int a = 1; a < argc; ++a) {
    if (std::string(argv[a]) == "--valid") {
      valid = true;
      continue;
    }
    if (!std::filesystem::exists(argv[a])) {
      std::cerr << argv[a] << ": no such file or folder\n";
      return 2;
    }
    for (const auto& file : inputs_under(argv[a])) {
      std::ifstream in(file, std::ios::binary);
      const std::vector<char> bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
      ++ran;
      try {
        if (!vkattn::fuzz::feed(bytes) && valid) {
          ++failed;
          std::cerr << file.string() << ": a good input was refused\n";
        }
      } catch (const std::exception& e) {
        ++failed;
        std::cerr << file.string() << ": escaped the target: " << e.what() << "\n";
      }
    }
    valid = false;
  }
  std::cout << "ran " << ran << " input(s), " << failed << " failed\n";
  if (ran == 0) {
    std::cerr << "no inputs found, so nothing was checked\n";
    return 1;
  }
  return failed == 0 ? 0 : 1;
}
