// A fresh directory per test for the files the lifecycle commands write.
#ifndef DTRUST_TESTS_TESTING_SCRATCH_DIR_H_
#define DTRUST_TESTS_TESTING_SCRATCH_DIR_H_

#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace dtrust::testing {

// Creates /tmp/dtrust-scratch-XXXXXX; the destructor removes it with
// everything in it. Thread-compatible.
class ScratchDir {
 public:
  ScratchDir() {
    char pattern[] = "/tmp/dtrust-scratch-XXXXXX";
    if (mkdtemp(pattern) == nullptr) {
      ADD_FAILURE() << "mkdtemp failed";
      return;
    }
    dir_ = pattern;
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  ~ScratchDir() {
    std::error_code ignored;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ignored);
  }

  const std::string& dir() const { return dir_; }
  std::string Path(const std::string& name) const { return dir_ + "/" + name; }

  // Every name in the directory (hidden and temporary files too), sorted.
  std::vector<std::string> Listing() const {
    std::vector<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
      names.push_back(entry.path().filename());
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  std::string Write(const std::string& name,
                    const std::string& contents) const {
    const std::string path = Path(name);
    std::ofstream(path) << contents;
    return path;
  }

  static std::string Read(const std::string& path) {
    std::ifstream in(path);
    std::stringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
  }

  // Permission bits of `path`.
  static mode_t Mode(const std::string& path) {
    struct stat st {};
    EXPECT_EQ(stat(path.c_str(), &st), 0) << path;
    return st.st_mode & 07777;
  }

 private:
  std::string dir_;
};

}  // namespace dtrust::testing

#endif  // DTRUST_TESTS_TESTING_SCRATCH_DIR_H_
